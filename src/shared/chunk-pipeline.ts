// Sending an upload's chunks with a few unanswered at once, so the round trips overlap (on a loaded
// machine each one waits for the server, the worker and back) while memory stays bounded: at most
// `window` chunks are held. Requests go out strictly in order, since the host takes them only so.

/** Chunks the host may be holding unanswered at once (4 × 512 KiB). */
export const UPLOAD_WINDOW = 4

export interface ChunkSender<R> {
  total: number
  window?: number
  /** Chunk `index`'s bytes (read while earlier chunks are on their way). */
  read(index: number): Promise<Uint8Array>
  /** Send one chunk; called in index order, each once its bytes are read. */
  send(index: number, bytes: Uint8Array): Promise<R>
  /** Each reply, in index order. */
  onReply(reply: R, index: number): void
  /** Asked before each send: true stops sending (chunks already sent are still awaited). */
  stop(): boolean
}

/**
 * Send every chunk; resolves 'sent' when all were answered, 'stopped' when stop() said so. The
 * first failure stops sending and is rethrown once the chunks in flight have settled (the host
 * refuses those after it, so their errors add nothing).
 */
export async function sendChunks<R>(s: ChunkSender<R>): Promise<'sent' | 'stopped'> {
  const window = Math.max(1, s.window ?? UPLOAD_WINDOW)
  const inFlight: Promise<R>[] = []
  let next = 0
  let stopped = false
  try {
    while (inFlight.length > 0 || (next < s.total && !stopped)) {
      while (next < s.total && inFlight.length < window && !stopped) {
        if (s.stop()) stopped = true
        else {
          const index = next++
          inFlight.push(s.send(index, await s.read(index)))
        }
      }
      if (inFlight.length === 0) break
      s.onReply(await inFlight[0]!, next - inFlight.length)
      inFlight.shift()
    }
  } catch (err) {
    await Promise.allSettled(inFlight)
    throw err
  }
  return stopped ? 'stopped' : 'sent'
}

import { describe, expect, it } from 'vitest'
import { sendChunks, UPLOAD_WINDOW } from './chunk-pipeline'

/** A host that answers each chunk when the test says, recording the order and the peak unanswered. */
function slowHost(failAt = -1) {
  const sent: number[] = []
  const pending: (() => void)[] = []
  let open = 0
  let peak = 0
  return {
    sent,
    get peak() {
      return peak
    },
    send: (index: number) =>
      new Promise<number>((resolve, reject) => {
        sent.push(index)
        peak = Math.max(peak, ++open)
        pending.push(() => {
          open--
          if (index === failAt) reject(new Error(`chunk ${index} refused`))
          else if (failAt >= 0 && index > failAt) reject(new Error(`chunk ${index}: no upload in progress`))
          else resolve(index + 1)
        })
        // Answered a little later, out of the sender's turn.
        setTimeout(() => pending.shift()?.(), 1)
      }),
  }
}

const read = async (i: number) => new Uint8Array([i])

describe('sendChunks', () => {
  it('sends every chunk in order with at most `window` unanswered, replies in order', async () => {
    const host = slowHost()
    const replies: [number, number][] = []
    const r = await sendChunks({ total: 20, read, send: host.send, onReply: (v, i) => replies.push([v, i]), stop: () => false })
    expect(r).toBe('sent')
    expect(host.sent).toEqual([...Array(20).keys()])
    expect(replies).toEqual([...Array(20).keys()].map((i) => [i + 1, i]))
    expect(host.peak).toBe(UPLOAD_WINDOW)
    const one = slowHost()
    await sendChunks({ total: 5, window: 1, read, send: one.send, onReply: () => undefined, stop: () => false })
    expect(one.peak).toBe(1)
  })

  it("stops sending at the first refusal and rethrows it, not the later chunks' errors", async () => {
    const host = slowHost(3)
    const seen: number[] = []
    await expect(sendChunks({ total: 20, read, send: host.send, onReply: (v) => seen.push(v), stop: () => false })).rejects.toThrow(
      'chunk 3 refused',
    )
    expect(seen).toEqual([1, 2, 3])
    expect(Math.max(...host.sent)).toBeLessThan(3 + UPLOAD_WINDOW + 1)
  })

  it('stops when asked, awaiting what was already sent', async () => {
    const host = slowHost()
    let replies = 0
    const r = await sendChunks({ total: 20, read, send: host.send, onReply: () => replies++, stop: () => replies >= 2 })
    expect(r).toBe('stopped')
    expect(replies).toBe(host.sent.length)
    expect(host.sent.length).toBeLessThan(20)
  })
})

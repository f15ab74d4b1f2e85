// The user's own data files (CSV tables, IDX images/labels) on their way to the engine host: read
// in slices, sent as byte chunks in order under one upload id ('files.upload'; serve mode sends each
// as one binary WebSocket frame, Electron's IPC clones the bytes), with progress,
// cancel and the host's error message (it names the row/column or header field of a bad file).
// Stored files are remembered by content id so the data panel can show their columns and dims.
import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import type { RequestResult } from '../../../../shared/protocol'
import { DATA_LIMITS } from '../../../../shared/protocol-data'
import { EngineRequestError, getEngineClient } from '../../../engine'
import { sendChunks } from '../../../../shared/chunk-pipeline'

export type StoredFile = RequestResult<'files.info'>

/** File bytes per chunk: few round trips, and a frame well under serve mode's 1 MiB. */
export const CHUNK_BYTES = 512 * 1024

export interface Upload {
  uploadId: string
  name: string
  bytes: number
  /** Chunks the host has acknowledged, of `total`. */
  sent: number
  /** Bytes the host has acknowledged, of `bytes`. */
  sentBytes: number
  total: number
  status: 'uploading' | 'done' | 'error' | 'cancelled'
  /** What went wrong, in the host's words (or why the file was refused before sending). */
  error: string | null
  file: StoredFile | null
}

/** What an upload reads from: a browser File, or anything with a name that can be sliced. */
export interface UploadSource {
  name: string
  size: number
  slice(start: number, end: number): Blob
}

function newUploadId(): string {
  return `u${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`.slice(0, 33)
}

/** Why a file cannot be sent at all (too big, empty), or null. */
export function refuseUpload(source: UploadSource): string | null {
  if (source.size === 0) return `${source.name} is empty`
  if (source.size > DATA_LIMITS.maxUploadBytes) {
    return `${source.name} is ${(source.size / 2 ** 20).toFixed(1)} MB; files up to ${DATA_LIMITS.maxUploadBytes / 2 ** 20} MB can be used`
  }
  if (source.name.length > 255) return 'the file name is longer than 255 characters'
  return null
}

export const useFilesStore = defineStore('files', () => {
  const client = getEngineClient()
  /** Uploads of this session, newest last. */
  const uploads = ref<Upload[]>([])
  /** Files the host has stored, by id. */
  const stored = reactive(new Map<string, StoredFile>())
  const cancelled = new Set<string>()

  /**
   * Send `source` in chunks; resolves with the stored file, or null when it was refused, failed
   * or was cancelled (the upload's `error` says why). Never throws.
   */
  async function upload(source: UploadSource): Promise<StoredFile | null> {
    const total = Math.max(1, Math.ceil(source.size / CHUNK_BYTES))
    uploads.value.push({
      uploadId: newUploadId(),
      name: source.name,
      bytes: source.size,
      sent: 0,
      sentBytes: 0,
      total,
      status: 'uploading',
      error: null,
      file: null,
    })
    // The reactive proxy, so progress shows as it changes.
    const up = uploads.value.at(-1)!
    const refused = refuseUpload(source)
    if (refused) return fail(up, refused)
    try {
      let file: StoredFile | null = null
      const outcome = await sendChunks({
        total,
        read: async (index) =>
          new Uint8Array(await source.slice(index * CHUNK_BYTES, Math.min(source.size, (index + 1) * CHUNK_BYTES)).arrayBuffer()),
        send: (index, chunk) =>
          client.request('files.upload', { uploadId: up.uploadId, name: source.name, index, total, bytes: source.size, chunk }),
        onReply: (reply) => {
          up.sent = reply.received
          up.sentBytes = Math.min(source.size, reply.received * CHUNK_BYTES)
          if (reply.done && !reply.file) throw new Error(`${source.name}: the host finished the upload without storing a file`)
          if (reply.done) file = reply.file
        },
        stop: () => cancelled.has(up.uploadId),
      })
      if (outcome === 'stopped' || cancelled.has(up.uploadId)) return finishCancelled(up)
      if (!file) return fail(up, `${source.name}: the host did not finish the upload after ${total} chunks`)
      const done: StoredFile = file
      up.status = 'done'
      up.file = done
      stored.set(done.fileId, done)
      return done
    } catch (err) {
      const message = err instanceof EngineRequestError || err instanceof Error ? err.message : String(err)
      return fail(up, message.replace(/^files\.upload: /, ''))
    }
  }

  function fail(up: Upload, message: string): null {
    up.status = 'error'
    up.error = message
    return null
  }

  function finishCancelled(up: Upload): null {
    cancelled.delete(up.uploadId)
    up.status = 'cancelled'
    return null
  }

  /** Stop an upload before its next chunk (the host drops an upload that never finishes). */
  function cancel(uploadId: string): void {
    const up = uploads.value.find((u) => u.uploadId === uploadId)
    if (up?.status === 'uploading') cancelled.add(uploadId)
  }

  /** A stored file's summary (asked of the host once, e.g. for a run reopened with a CSV). */
  async function info(fileId: string): Promise<StoredFile | null> {
    const known = stored.get(fileId)
    if (known) return known
    try {
      const file = await client.request('files.info', { fileId })
      stored.set(fileId, file)
      return file
    } catch {
      return null
    }
  }

  return { uploads, stored, upload, cancel, info }
})

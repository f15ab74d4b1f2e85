// Uploading the user's files in chunks against the fake host: chunk sizes and order, progress,
// the host's error for a malformed file, refusal before sending, and cancel.
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DATA_LIMITS } from '../../../../shared/protocol-data'
import { createEngineClient } from '../../../engine/engine-client'
import { FakeHost } from '../../../engine/fake-host'
import { setEngineClient } from '../../../engine'
import { UPLOAD_WINDOW } from '../../../../shared/chunk-pipeline'
import { CHUNK_BYTES, useFilesStore } from './files'

let host: FakeHost

/** A named Blob, as an <input type=file> gives. */
function file(name: string, content: BlobPart[]): Blob & { name: string } {
  return Object.assign(new Blob(content), { name })
}

/** A CSV of about `bytes` bytes: header x,y,label and rows of numbers. */
function bigCsv(bytes: number): string {
  const rows = ['x,y,label']
  let size = 10
  for (let i = 0; size < bytes; i++) {
    const row = `${(i % 97) / 10},${(i % 89) / 10},${i % 2}`
    rows.push(row)
    size += row.length + 1
  }
  return rows.join('\n') + '\n'
}

const uploads = () =>
  host.requests
    .filter((r) => r.kind === 'files.upload')
    .map((r) => r.payload as { uploadId: string; index: number; total: number; bytes: number; chunk: Uint8Array })

beforeEach(() => {
  host = new FakeHost()
  setEngineClient(createEngineClient(host.transport()))
  setActivePinia(createPinia())
})
afterEach(() => setEngineClient(null))

describe('files store: upload', () => {
  it('sends a 1.3 MB file as 3 ordered byte chunks of 512 KiB', async () => {
    const text = bigCsv(1_300_000)
    const files = useFilesStore()
    const stored = await files.upload(file('big.csv', [text]))

    const sent = uploads()
    expect(sent).toHaveLength(3)
    expect(sent.map((c) => c.index)).toEqual([0, 1, 2])
    expect(sent.every((c) => c.total === 3 && c.bytes === text.length)).toBe(true)
    expect(new Set(sent.map((c) => c.uploadId)).size).toBe(1)
    expect(sent.every((c) => c.chunk instanceof Uint8Array && c.chunk.length <= DATA_LIMITS.maxChunkBytes)).toBe(true)
    expect(sent[0]!.chunk.length).toBe(CHUNK_BYTES)
    // The chunks join back into the file, in order.
    const joined = sent.map((c) => new TextDecoder().decode(c.chunk)).join('')
    expect(joined).toBe(text)

    expect(stored?.summary.format).toBe('csv')
    expect(stored?.fileId).toMatch(/^f[0-9a-f]{16}$/)
    expect(files.uploads[0]).toMatchObject({ status: 'done', sent: 3, sentBytes: text.length, total: 3, error: null })
    expect(files.stored.get(stored!.fileId)?.name).toBe('big.csv')
  })

  it('makes chunks that fit the protocol and a serve-mode frame', () => {
    expect(CHUNK_BYTES).toBeLessThanOrEqual(DATA_LIMITS.maxChunkBytes)
  })

  it("shows the host's message for a malformed file, naming the row, and stores nothing", async () => {
    const files = useFilesStore()
    const stored = await files.upload(file('bad.csv', ['a,b,c\n1,2,3\n4,5\n']))
    expect(stored).toBeNull()
    expect(files.uploads[0]!.status).toBe('error')
    expect(files.uploads[0]!.error).toMatch(/row 3: expected 3 columns, found 2/)
    expect(files.stored.size).toBe(0)
    expect(host.files.size).toBe(0)
  })

  it('refuses an empty or too large file before sending anything', async () => {
    const files = useFilesStore()
    expect(await files.upload(file('empty.csv', []))).toBeNull()
    const huge = { name: 'huge.idx', size: DATA_LIMITS.maxUploadBytes + 1, slice: () => new Blob([]) }
    expect(await files.upload(huge)).toBeNull()
    expect(files.uploads.map((u) => u.error)).toEqual([
      'empty.csv is empty',
      expect.stringMatching(/^huge\.idx is 64\.0 MB; files up to 64 MB can be used$/),
    ])
    expect(uploads()).toHaveLength(0)
  })

  it('cancels between chunks: sending stops (only chunks already on their way went) and nothing is stored', async () => {
    const files = useFilesStore()
    host.overrides.set('files.upload', (m) => {
      // Cancel while the first chunk is on its way.
      if ((m.payload as { index: number }).index === 0) files.cancel(files.uploads[0]!.uploadId)
      return undefined
    })
    const result = await files.upload(file('big.csv', [bigCsv(4_000_000)]))
    expect(result).toBeNull()
    expect(files.uploads[0]!.status).toBe('cancelled')
    // 8 chunks; at most the window's worth had gone before the cancel was seen.
    expect(uploads().length).toBeLessThanOrEqual(UPLOAD_WINDOW)
    expect(files.stored.size).toBe(0)
  })

  it('reports a chunk the host refuses mid-way and stops there', async () => {
    const files = useFilesStore()
    host.overrides.set('files.upload', (m) =>
      (m.payload as { index: number }).index === 1
        ? { error: { code: 'limit', message: 'files.upload: the data directory is full' } }
        : undefined,
    )
    expect(await files.upload(file('big.csv', [bigCsv(1_300_000)]))).toBeNull()
    expect(files.uploads[0]).toMatchObject({ status: 'error', sent: 1, error: 'the data directory is full' })
    // Chunks sent after it (at most the window's worth) were refused too; the first refusal is shown.
    expect(uploads().map((c) => c.index)).toEqual([...Array(uploads().length).keys()])
    expect(uploads().length).toBeLessThanOrEqual(1 + UPLOAD_WINDOW)
  })

  it('asks the host once for a stored file it has not seen (a reopened run)', async () => {
    const known = host.addFile('people.csv', 'age,height\n30,1.8\n40,1.7\n')
    const files = useFilesStore()
    expect((await files.info(known.fileId))?.name).toBe('people.csv')
    expect((await files.info(known.fileId))?.name).toBe('people.csv')
    expect(host.kinds().filter((k) => k === 'files.info')).toHaveLength(1)
    expect(await files.info('f0000000000000000')).toBeNull()
  })
})

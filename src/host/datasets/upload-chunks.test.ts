// Chunk validation of binary uploads ('files.upload' with `chunk` bytes): sizes, order, limits
// and ownership are checked per chunk, and a refused upload keeps nothing.
import { describe, expect, it } from 'vitest'
import { parseRequest } from '../../shared/protocol'
import { DATA_LIMITS } from '../../shared/protocol-data'
import { asClient } from '../clients'
import { FileStore } from './store'
import { Uploads, type UploadPayload } from './uploads'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const CSV = 'a,b\n1,2\n3,4\n'

/** A chunk as the protocol parses it (so the refinements apply), sent as `client`. */
function chunk(fields: Partial<UploadPayload> & { uploadId: string }): UploadPayload {
  const payload = { name: 'x.csv', index: 0, total: 2, bytes: CSV.length, ...fields }
  const parsed = parseRequest({ v: 1, id: 1, kind: 'files.upload', payload })
  if (!parsed.ok) throw new Error(parsed.error.message)
  return parsed.value.payload as UploadPayload
}

describe('binary upload chunks', () => {
  it('stores a file sent as byte chunks, exactly', { timeout: 20_000 }, async () => {
    const uploads = new Uploads(new FileStore(null))
    const first = uploads.receive(chunk({ uploadId: 'ubin0001', chunk: enc(CSV.slice(0, 6)) }))
    expect(first).toMatchObject({ received: 1, done: false })
    const last = await uploads.receive(chunk({ uploadId: 'ubin0001', index: 1, chunk: enc(CSV.slice(6)) }))
    expect(last).toMatchObject({ done: true, file: { name: 'x.csv', bytes: CSV.length, summary: { format: 'csv', rows: 2 } } })
    expect(uploads.inProgress).toBe(0)
  })

  it('refuses bad sizes before keeping anything: too big a file, too big a chunk, more bytes than announced', () => {
    const huge = parseRequest({
      v: 1,
      id: 1,
      kind: 'files.upload',
      payload: { uploadId: 'ubin0002', name: 'x.csv', index: 0, total: 1, bytes: DATA_LIMITS.maxUploadBytes + 1, chunk: enc('a') },
    })
    expect(huge).toMatchObject({ ok: false, error: { code: 'invalid_payload', message: expect.stringMatching(/bytes/) } })
    const fat = parseRequest({
      v: 1,
      id: 1,
      kind: 'files.upload',
      payload: { uploadId: 'ubin0003', name: 'x.csv', index: 0, total: 1, bytes: 10, chunk: new Uint8Array(DATA_LIMITS.maxChunkBytes + 1) },
    })
    expect(fat).toMatchObject({ ok: false, error: { message: expect.stringMatching(/chunk: must be at most/) } })
    const both = parseRequest({
      v: 1,
      id: 1,
      kind: 'files.upload',
      payload: { uploadId: 'ubin0004', name: 'x.csv', index: 0, total: 1, bytes: 1, chunk: enc('a'), chunkBase64: 'YQ==' },
    })
    expect(both).toMatchObject({ ok: false, error: { message: expect.stringMatching(/exactly one of chunk/) } })
    const text = parseRequest({
      v: 1,
      id: 1,
      kind: 'files.upload',
      payload: { uploadId: 'ubin0005', name: 'x.csv', index: 0, total: 1, bytes: 1, chunk: 'YQ==' },
    })
    expect(text).toMatchObject({ ok: false, error: { message: expect.stringMatching(/must be bytes/) } })

    const uploads = new Uploads(new FileStore(null))
    uploads.receive(chunk({ uploadId: 'ubin0006', bytes: 8, chunk: enc('a,b\n') }))
    expect(() => uploads.receive(chunk({ uploadId: 'ubin0006', index: 1, bytes: 8, chunk: enc('1,2\n3,4\n') }))).toThrow(
      /hold more than the 8 bytes the upload announced/,
    )
    expect(uploads.inProgress).toBe(0)
  })

  it('refuses chunks out of order or repeated, and a last chunk that leaves the file short', () => {
    const uploads = new Uploads(new FileStore(null))
    expect(() => uploads.receive(chunk({ uploadId: 'ubin0007', index: 1, chunk: enc('x') }))).toThrow(
      /no upload with this id is in progress/,
    )
    uploads.receive(chunk({ uploadId: 'ubin0007', total: 3, chunk: enc('a,') }))
    expect(() => uploads.receive(chunk({ uploadId: 'ubin0007', index: 2, total: 3, chunk: enc('b') }))).toThrow(
      /out of order \(next expected: chunk 1\)/,
    )
    expect(() => uploads.receive(chunk({ uploadId: 'ubin0007', index: 0, total: 3, chunk: enc('a,') }))).toThrow(/already received/)
    uploads.receive(chunk({ uploadId: 'ubin0007', index: 1, total: 3, chunk: enc('b\n') }))
    expect(() => uploads.receive(chunk({ uploadId: 'ubin0007', index: 2, total: 3, chunk: enc('1') }))).toThrow(
      /the 3 chunks hold 5 bytes, but the upload announced 12/,
    )
    expect(uploads.inProgress).toBe(0)
  })

  it("refuses another client's chunks for an upload id it did not begin (the id is not a key)", () => {
    const uploads = new Uploads(new FileStore(null))
    asClient('tab-a', () => uploads.receive(chunk({ uploadId: 'ubin0008', chunk: enc('a,b\n') })))
    const stolen = () => asClient('tab-b', () => uploads.receive(chunk({ uploadId: 'ubin0008', index: 1, chunk: enc('1,2\n3,4\n') })))
    expect(stolen).toThrow(/no upload with this id was begun by this client/)
    // The owner's upload is untouched and still completes.
    expect(uploads.inProgress).toBe(1)
    const mine = asClient('tab-a', () => uploads.receive(chunk({ uploadId: 'ubin0008', index: 1, chunk: enc('1,2\n3,4\n') })))
    return expect(mine).resolves.toMatchObject({ done: true })
  })
})

import { describe, expect, it } from 'vitest'
import { decodeBinaryRequest, encodeBinaryRequest, MAX_FRAME_HEADER_BYTES } from './binary-frame'

const frameOf = (header: unknown, bytes: Uint8Array = new Uint8Array(0)): Uint8Array => {
  const h = new TextEncoder().encode(JSON.stringify(header))
  const f = new Uint8Array(4 + h.length + bytes.length)
  new DataView(f.buffer).setUint32(0, h.length, true)
  f.set(h, 4)
  f.set(bytes, 4 + h.length)
  return f
}

describe('binary request frames', () => {
  it('round-trips a request with a byte field; requests without one stay JSON', () => {
    const chunk = Uint8Array.from({ length: 1000 }, (_, i) => i % 251)
    const msg = { v: 1, id: 7, kind: 'files.upload', payload: { uploadId: 'uabc123', index: 0, chunk } }
    const frame = encodeBinaryRequest(msg)!
    expect(frame.length).toBeLessThan(1200) // the bytes plus a header of about 100
    const back = decodeBinaryRequest(frame)
    expect(back).toEqual({ ok: true, message: msg })
    // The bytes are a copy of their own, not a view of the whole frame.
    if (back.ok) expect(((back.message['payload'] as { chunk: Uint8Array }).chunk.buffer as ArrayBuffer).byteLength).toBe(1000)
    expect(encodeBinaryRequest({ v: 1, id: 1, kind: 'runs.list', payload: {} })).toBeNull()
    expect(() => encodeBinaryRequest({ payload: { a: new Uint8Array(1), b: new Uint8Array(1) } })).toThrow(/one byte field, not 2/)
  })

  it('refuses malformed frames with a reason, before copying anything', () => {
    const bad = (f: Uint8Array) => {
      const r = decodeBinaryRequest(f)
      return r.ok ? 'accepted' : r.message
    }
    expect(bad(new Uint8Array(3))).toMatch(/at least 4 bytes/)
    const tooLong = new Uint8Array(8)
    new DataView(tooLong.buffer).setUint32(0, MAX_FRAME_HEADER_BYTES + 1, true)
    expect(bad(tooLong)).toMatch(/header is at most/)
    const short = new Uint8Array(8)
    new DataView(short.buffer).setUint32(0, 100, true)
    expect(bad(short)).toMatch(/says 100 bytes, but the frame has 4/)
    const notJson = frameOf('x').fill(0x7b, 4)
    expect(bad(notJson)).toMatch(/not JSON/)
    expect(bad(frameOf([1]))).toMatch(/must be an object/)
    expect(bad(frameOf({ payload: {} }))).toMatch(/must name the payload field/)
    expect(bad(frameOf({ payload: {}, binary: '__proto__' }))).toMatch(/must name the payload field/)
    expect(bad(frameOf({ payload: 3, binary: 'chunk' }))).toMatch(/payload object/)
    expect(bad(frameOf({ payload: { chunk: 1 }, binary: 'chunk' }))).toMatch(/already has a field "chunk"/)
  })
})

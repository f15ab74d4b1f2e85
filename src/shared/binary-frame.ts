// A request that carries bytes (an upload chunk) crosses serve mode's WebSocket as one binary
// frame instead of base64 in JSON: a 4-byte little-endian header length, the request envelope as
// JSON (its payload without the bytes, plus `binary`: the payload field the bytes belong to), then
// the bytes themselves. Decoding checks every length before it copies anything and hands back the
// envelope with the bytes in place, for the protocol's usual validation.

/** The JSON part is small (names and numbers); anything longer is not a request of ours. */
export const MAX_FRAME_HEADER_BYTES = 16 * 1024
const FIELD = /^[A-Za-z][A-Za-z0-9]{0,31}$/

export type FrameResult = { ok: true; message: Record<string, unknown> } | { ok: false; message: string }

/** The single Uint8Array field of a request's payload, or null when it has none. */
function binaryField(payload: unknown): string | null {
  if (typeof payload !== 'object' || payload === null) return null
  const fields = Object.entries(payload).filter(([, v]) => v instanceof Uint8Array)
  if (fields.length > 1) throw new Error(`a request may carry one byte field, not ${fields.length} (${fields.map(([k]) => k).join(', ')})`)
  return fields.length ? fields[0]![0] : null
}

/** The binary frame for a request with a byte field in its payload, or null (send it as JSON text). */
export function encodeBinaryRequest<M extends { payload?: unknown }>(message: M): Uint8Array<ArrayBuffer> | null {
  const field = binaryField(message.payload)
  if (field === null) return null
  const payload = { ...(message.payload as Record<string, unknown>) }
  const bytes = payload[field] as Uint8Array
  delete payload[field]
  const header = new TextEncoder().encode(JSON.stringify({ ...message, payload, binary: field }))
  const frame = new Uint8Array(4 + header.length + bytes.length)
  new DataView(frame.buffer).setUint32(0, header.length, true)
  frame.set(header, 4)
  frame.set(bytes, 4 + header.length)
  return frame
}

/** The request a binary frame holds (its bytes copied out of the frame), or why it is not one. */
export function decodeBinaryRequest(frame: Uint8Array): FrameResult {
  if (frame.length < 4) return { ok: false, message: `a binary frame is at least 4 bytes (this one is ${frame.length})` }
  const headerBytes = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0, true)
  if (headerBytes > MAX_FRAME_HEADER_BYTES)
    return { ok: false, message: `a binary frame's header is at most ${MAX_FRAME_HEADER_BYTES} bytes (this one says ${headerBytes})` }
  if (4 + headerBytes > frame.length)
    return {
      ok: false,
      message: `a binary frame's header says ${headerBytes} bytes, but the frame has ${frame.length - 4} after the length`,
    }
  let header: unknown
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(frame.subarray(4, 4 + headerBytes)))
  } catch (err) {
    return { ok: false, message: `a binary frame's header is not JSON (${err instanceof Error ? err.message : 'parse error'})` }
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    return { ok: false, message: "a binary frame's header must be an object" }
  const { binary, ...message } = header as Record<string, unknown>
  const payload = message['payload']
  if (typeof binary !== 'string' || !FIELD.test(binary))
    return { ok: false, message: "a binary frame's header must name the payload field its bytes belong to (binary)" }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    return { ok: false, message: "a binary frame's header must have a payload object" }
  if (Object.hasOwn(payload, binary)) return { ok: false, message: `a binary frame's payload already has a field "${binary}"` }
  // A copy the size of the bytes alone, so nothing downstream holds (or clones) the whole frame.
  message['payload'] = { ...payload, [binary]: frame.slice(4 + headerBytes) }
  return { ok: true, message }
}

// safetensors round trips, the exact byte layout of the spec, and clear errors on damaged files.
import { describe, expect, it } from 'vitest'
import { decodeSafetensors, encodeSafetensors } from './safetensors.js'

describe('safetensors', () => {
  it('round-trips float32 and float64 tensors with metadata', () => {
    const bytes = encodeSafetensors(
      {
        'layers.0.weight': { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) },
        'layers.0.bias': { dtype: 'F64', shape: [3], data: Float64Array.from([0.1, -0.2, 1e-300]) },
        scalar: { dtype: 'F32', shape: [], data: Float32Array.from([7]) },
        empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
      },
      { step: '42', format: 'pt' },
    )
    const f = decodeSafetensors(bytes)
    expect(f.metadata).toEqual({ step: '42', format: 'pt' })
    expect(Array.from(f.tensors['layers.0.weight'].data)).toEqual([1, 2, 3, 4, 5, 6.5])
    expect(f.tensors['layers.0.bias'].data).toEqual(Float64Array.from([0.1, -0.2, 1e-300]))
    expect(f.tensors['scalar'].shape).toEqual([])
    expect(f.tensors['empty'].shape).toEqual([0, 4])
  })

  it("reads and writes I64 (PyTorch's num_batches_tracked) as exact integers, and refuses what a number cannot hold", () => {
    const bytes = encodeSafetensors({
      'norms.0.num_batches_tracked': { dtype: 'I64', shape: [], data: Float64Array.from([300]) },
      big: { dtype: 'I64', shape: [2], data: Float64Array.from([-(2 ** 53) + 1, 2 ** 53 - 1]) },
    })
    const f = decodeSafetensors(bytes)
    expect(f.tensors['norms.0.num_batches_tracked']).toEqual({ dtype: 'I64', shape: [], data: Float64Array.from([300]) })
    expect(Array.from(f.tensors.big.data)).toEqual([-(2 ** 53) + 1, 2 ** 53 - 1])
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true))
    expect(new DataView(bytes.buffer).getBigInt64(8 + n + 16, true)).toBe(300n) // after `big`'s 16 bytes (names sorted)
    const tooBig = encodeRaw({ a: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, 8)
    new DataView(tooBig.buffer).setBigInt64(tooBig.length - 8, 2n ** 60n, true)
    expect(() => decodeSafetensors(tooBig)).toThrow(/beyond ±2\^53/)
    expect(() => encodeSafetensors({ a: { dtype: 'I64', shape: [1], data: Float64Array.from([0.5]) } })).toThrow(/integers within/)
  })

  it('writes the layout of the spec: u64 LE header size, space-padded JSON, LE data', () => {
    const bytes = encodeSafetensors({ a: { dtype: 'F32', shape: [2], data: Float32Array.from([1, -2]) } })
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true))
    expect(n % 8).toBe(0)
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)))
    expect(header).toEqual({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } })
    expect(bytes.length).toBe(8 + n + 8)
    expect(Array.from(bytes.subarray(8 + n))).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0])
  })

  it('rejects damaged files with a message that says what is wrong', () => {
    const good = encodeSafetensors({ a: { dtype: 'F32', shape: [4], data: new Float32Array(4) } })
    expect(() => decodeSafetensors(good.subarray(0, 4))).toThrow(/8-byte header length/)
    expect(() => decodeSafetensors(good.subarray(0, good.length - 3))).toThrow(/truncated file/)
    const badJson = good.slice()
    badJson[9] = 0xff
    expect(() => decodeSafetensors(badJson)).toThrow(/not valid UTF-8 JSON/)
    const lying = good.slice()
    new DataView(lying.buffer).setBigUint64(0, 10n ** 12n, true)
    expect(() => decodeSafetensors(lying)).toThrow(/header claims/)
    const f16 = encodeRaw({ a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, 2)
    expect(() => decodeSafetensors(f16)).toThrow(/only F32, F64 and I64/)
    const hole = encodeRaw({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8)
    expect(() => decodeSafetensors(hole)).toThrow(/starts at byte 4; expected 0/)
    expect(() => encodeSafetensors({ a: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/needs 3 values, got 2/)
  })
})

function encodeRaw(header: unknown, dataBytes: number): Uint8Array {
  let json = JSON.stringify(header)
  while (json.length % 8) json += ' '
  const h = new TextEncoder().encode(json)
  const out = new Uint8Array(8 + h.length + dataBytes)
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true)
  out.set(h, 8)
  return out
}

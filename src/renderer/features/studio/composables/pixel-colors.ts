// Pixels as RGBA for a canvas: grayscale images from bytes (0 black … 255 white) and saliency
// maps as a diverging scale (blue negative, white zero, red positive) over the map's own largest
// magnitude, so a map shows where the gradient is strong and its sign, whatever its scale.

/** The bytes of a base64 string (the host sends images that way). */
export function fromBase64(text: string): Uint8Array {
  const bin = atob(text)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

/** `count` consecutive height×width images from `bytes` at image `first`, side by side in one RGBA strip. */
export function grayStrip(bytes: Uint8Array, first: number, count: number, height: number, width: number): Uint8ClampedArray {
  const hw = height * width
  const stripW = count * width
  const out = new Uint8ClampedArray(stripW * height * 4)
  for (let k = 0; k < count; k++) {
    for (let i = 0; i < hw; i++) {
      const v = bytes[(first + k) * hw + i] ?? 0
      const at = (Math.floor(i / width) * stripW + k * width + (i % width)) * 4
      out[at] = out[at + 1] = out[at + 2] = v
      out[at + 3] = 255
    }
  }
  return out
}

/** The largest magnitude in `values` (0 for an all-zero map). */
export function maxAbs(values: readonly number[]): number {
  let m = 0
  for (const v of values) if (Math.abs(v) > m) m = Math.abs(v)
  return m
}

/** A signed map as RGBA: white at 0, towards red (positive) or blue (negative) in proportion to |v| / scale. */
export function divergingRgba(values: readonly number[], scale = maxAbs(values)): Uint8ClampedArray {
  const out = new Uint8ClampedArray(values.length * 4)
  values.forEach((v, i) => {
    const t = scale > 0 ? Math.min(1, Math.abs(v) / scale) : 0
    const fade = Math.round(255 * (1 - t))
    const at = i * 4
    if (v >= 0) [out[at], out[at + 1], out[at + 2]] = [255, fade, fade]
    else [out[at], out[at + 1], out[at + 2]] = [fade, fade, 255]
    out[at + 3] = 255
  })
  return out
}

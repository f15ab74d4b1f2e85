// Pixels for the canvases: strips of grayscale images laid side by side, and the diverging scale
// of saliency maps (white at 0, red positive, blue negative, by magnitude over the map's largest).
import { describe, expect, it } from 'vitest'
import { divergingRgba, fromBase64, grayStrip, maxAbs } from './pixel-colors'

describe('pixel colours', () => {
  it('lays images side by side: row y of the strip is row y of each image in turn', () => {
    // Two 2×2 images: [1 2 / 3 4] and [5 6 / 7 8].
    const bytes = Uint8Array.from([9, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8])
    const rgba = grayStrip(bytes, 1, 2, 2, 2)
    const grays = Array.from({ length: 8 }, (_, i) => rgba[i * 4]!)
    expect(grays).toEqual([1, 2, 5, 6, 3, 4, 7, 8])
    expect(Array.from(rgba.subarray(0, 4))).toEqual([1, 1, 1, 255])
  })

  it('maps signed values to white at 0, full red at +max, full blue at −max, half way in between', () => {
    const rgba = divergingRgba([0, 2, -2, 1])
    expect(maxAbs([0, 2, -2, 1])).toBe(2)
    expect(Array.from(rgba)).toEqual([255, 255, 255, 255, 255, 0, 0, 255, 0, 0, 255, 255, 255, 128, 128, 255])
    // An all-zero map is white, not NaN.
    expect(Array.from(divergingRgba([0, 0]))).toEqual([255, 255, 255, 255, 255, 255, 255, 255])
  })

  it('decodes base64 to bytes', () => {
    expect(Array.from(fromBase64(btoa(String.fromCharCode(0, 128, 255))))).toEqual([0, 128, 255])
  })
})

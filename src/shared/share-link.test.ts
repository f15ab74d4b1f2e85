// Main writes to the clipboard only what the studio copies: a desktop experiment link.
import { describe, expect, it } from 'vitest'
import { DEEP_LINK_BASE, isShareLink, MAX_LINK_CHARS } from './share-link'

describe('isShareLink', () => {
  it('accepts the links the studio copies', () => {
    // encodeLink of the defaults with the moons ({"f":{"data":{"generator":"moons"}}}), as link-codec.test.ts writes it.
    expect(isShareLink(`${DEEP_LINK_BASE}#x=1.eyJmIjp7ImRhdGEiOnsiZ2VuZXJhdG9yIjoibW9vbnMifX19`)).toBe(true)
  })

  it('refuses anything else: other text, other schemes, trailing data, too long, not a string', () => {
    for (const text of [
      'rm -rf /',
      'https://example.com/#x=1.e30',
      `${DEEP_LINK_BASE}#x=1.e30\nmore`,
      `${DEEP_LINK_BASE}#x=one.e30`,
      `${DEEP_LINK_BASE}#x=1.${'a'.repeat(MAX_LINK_CHARS)}`,
      42,
      null,
    ]) {
      expect(isShareLink(text)).toBe(false)
    }
  })
})

import { describe, expect, it } from 'vitest'
import { locateError, offsetOf, stripKind } from './use-scalar-source'

describe('scalar parse errors', () => {
  it('finds the line and column the host names, and the offending line', () => {
    const src = 'a = 2\nb = a * * 3\n'
    const e = locateError(stripKind("expression: line 2, col 9: expected a number, a name or '(', got '*'"), src)
    expect(e).toMatchObject({ line: 2, col: 9, excerpt: 'b = a * * 3' })
    // The editor shows "line 2, col 9" beside the message: the message does not repeat it.
    expect(e.message).toBe("expected a number, a name or '(', got '*'")
    expect(offsetOf(src, 2, 9)).toBe(14)
  })

  it('keeps a message without a position as it is', () => {
    expect(locateError('scalar.evaluate: too many nodes', 'a = 1')).toEqual({
      message: 'scalar.evaluate: too many nodes',
      line: null,
      col: null,
      excerpt: null,
    })
    expect(stripKind('scalar.evaluate: expression: line 1, col 1: x')).toBe('line 1, col 1: x')
  })
})

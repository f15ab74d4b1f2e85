// The host's handler table: every request kind of the protocol has exactly one handler, from
// exactly one domain; a composition that misses a kind or handles one twice is refused, by the
// type checker (the @ts-expect-error lines below fail `tsc` if it stops refusing) and at runtime.
import { describe, expect, it } from 'vitest'
import { REQUEST_KINDS } from '../../shared/protocol'
import { testHost } from '../test-helpers'
import { composeHandlers, type HandlerTable } from './table'

const hello: HandlerTable<'host.hello'> = {
  'host.hello': () => {
    throw new Error('not called')
  },
}

describe('the host handler table', () => {
  it('has one handler for each request kind of the protocol, no more', () => {
    const { host } = testHost()
    try {
      const table = host['handlers']
      expect(Object.keys(table).sort()).toEqual([...REQUEST_KINDS].sort())
      for (const kind of REQUEST_KINDS) expect(typeof table[kind]).toBe('function')
    } finally {
      host.dispose()
    }
  })

  it('refuses two domains handling the same kind', () => {
    const { host } = testHost()
    try {
      const all = host['handlers']
      expect(Object.keys(composeHandlers([all])).sort()).toEqual([...REQUEST_KINDS].sort())
      // @ts-expect-error host.hello is handled twice (the type names it)
      expect(() => composeHandlers([hello, all])).toThrow(/"host.hello" is handled by two domains/)
    } finally {
      host.dispose()
    }
  })

  it('refuses a composition that leaves a kind without a handler', () => {
    // @ts-expect-error every kind but host.hello is unhandled
    expect(() => composeHandlers([hello])).toThrow(/no handler for dataset\.preview, session\.create/)
  })

  it('refuses a handler for a kind the protocol does not have', () => {
    const stray = { 'host.nonsense': () => null } as unknown as HandlerTable<'host.hello'>
    expect(() => composeHandlers([stray] as never)).toThrow(/"host.nonsense" is not a request kind/)
  })
})

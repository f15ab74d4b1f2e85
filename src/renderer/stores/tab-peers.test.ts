// Tabs find each other's sessions through their records in (a stand-in for) localStorage: a
// record is believed only when well-formed and fresh, a page never lists itself, a page that goes
// removes its record, and the session to continue comes first.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { memoryStorage } from './storage-fixture'
import { announce, peerSessions, type PeerSession } from './tab-peers'

let storage: Storage
/** Each page's 'pagehide' listener, in the order the pages opened. */
const hides: (() => void)[] = []
const stops: (() => void)[] = []
const page = (s: PeerSession | null) => {
  const r = announce(() => s)
  stops.push(r.stop)
  return r
}

beforeEach(() => {
  storage = memoryStorage()
  vi.stubGlobal('document', {})
  vi.stubGlobal('localStorage', storage)
  vi.stubGlobal('addEventListener', (type: string, fn: () => void) => void (type === 'pagehide' && hides.push(fn)))
  vi.stubGlobal('removeEventListener', () => undefined)
})
afterEach(() => {
  stops.splice(0).forEach((stop) => stop())
  hides.length = 0
  vi.unstubAllGlobals()
  vi.useRealTimers()
})

describe('tab peers', () => {
  it('lists the other open tabs’ sessions, running first, then furthest along, never its own', () => {
    page({ sessionId: 's1', runId: 'rmiabc12-x8f2k1', running: false, step: 900 })
    page({ sessionId: 's2', runId: null, running: true, step: 10 })
    page({ sessionId: 's3', runId: null, running: false, step: 40 })
    page(null) // a tab still building its first session has no record
    expect(peerSessions().map((p) => p.sessionId)).toEqual(['s2', 's1', 's3'])
    // The page that announced last is this one: it does not see itself.
    page({ sessionId: 's4', runId: null, running: true, step: 99 })
    expect(peerSessions().map((p) => p.sessionId)).toEqual(['s2', 's1', 's3'])
  })

  it('follows a tab’s changes, and forgets a tab that went', () => {
    let shown: PeerSession | null = { sessionId: 's1', runId: null, running: false, step: 0 }
    const other = announce(() => shown)
    stops.push(other.stop)
    page(null)
    shown = { sessionId: 's2', runId: null, running: true, step: 5 }
    other.changed()
    expect(peerSessions()).toEqual([shown])
    hides[0]!()
    expect(peerSessions()).toEqual([])
  })

  it('drops stale records (a crashed tab’s) and ignores malformed ones', () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const at = Date.now()
    const bad = {
      'bps.tab.a': { sessionId: '../etc', runId: null, running: true, step: 1, at },
      'bps.tab.b': { sessionId: 's9', runId: 7, running: true, step: 1, at },
      'bps.tab.c': { sessionId: 's9', runId: null, running: 'yes', step: 1, at },
      'bps.tab.d': { sessionId: 's9', runId: null, running: true, step: -1, at },
      'bps.tab.e': { sessionId: 's9', runId: null, running: true, step: 1.5, at },
      'bps.tab.f': { sessionId: 's9', runId: null, running: true, step: 1, at: at - 120_000 },
      'bps.tab.g': { sessionId: 's9', runId: null, running: true, step: 1 },
    }
    for (const [k, v] of Object.entries(bad)) storage.setItem(k, JSON.stringify(v))
    storage.setItem('bps.tab.h', '{not json')
    storage.setItem('bps.tab.ok', JSON.stringify({ sessionId: 's7', runId: null, running: false, step: 3, at }))
    storage.setItem('other.key', 'kept')
    expect(peerSessions()).toEqual([{ sessionId: 's7', runId: null, running: false, step: 3 }])
    expect(Object.keys(storage).sort()).toEqual(['bps.tab.ok', 'other.key'])
  })

  it('keeps a heartbeat, so a quiet tab stays listed', () => {
    vi.useFakeTimers({ now: 1_000_000 })
    page({ sessionId: 's1', runId: null, running: false, step: 3 })
    page(null)
    vi.advanceTimersByTime(10 * 60_000)
    expect(peerSessions().map((p) => p.sessionId)).toEqual(['s1'])
  })

  it('finds nobody outside a page', () => {
    page({ sessionId: 's1', runId: null, running: true, step: 1 })
    vi.stubGlobal('document', undefined)
    expect(peerSessions()).toEqual([])
  })
})

// The studio's other open tabs (or Electron windows) of this browser profile: a page that opens
// reads which sessions they show, so a second tab continues the running session instead of
// building another. Each open page keeps a record in localStorage (the session it shows, renewed
// as it changes and on a heartbeat) and removes it when it goes; a record not renewed for a while
// is a crashed tab's and is dropped. Records are read at once: asking the other pages instead
// would wait on them, and a tab busy training or throttled in the background answers late.
// Every record is checked before it is believed: any page of this origin may write anything there.

const PREFIX = 'bps.tab.'
/** How often an open page renews its record, and how old one may be to count (background tabs' timers may run once a minute). */
const HEARTBEAT_MS = 10_000
const FRESH_MS = 90_000
/** Records read at most, whatever a misbehaving page wrote. */
const MAX_RECORDS = 32

/** What a peer says it shows. */
export interface PeerSession {
  sessionId: string
  runId: string | null
  running: boolean
  step: number
}

const ID = /^[A-Za-z0-9_-]{1,64}$/

/** A stored record, or null when it is malformed or stale. */
function read(text: string | null, now: number): PeerSession | null {
  let r: unknown
  try {
    r = JSON.parse(text ?? 'null')
  } catch {
    return null
  }
  if (typeof r !== 'object' || r === null) return null
  const m = r as Record<string, unknown>
  const at = m['at']
  if (typeof at !== 'number' || !(now - at < FRESH_MS) || at > now + FRESH_MS) return null
  const runId = m['runId'] === null ? null : typeof m['runId'] === 'string' && ID.test(m['runId']) ? m['runId'] : undefined
  if (typeof m['sessionId'] !== 'string' || !ID.test(m['sessionId']) || runId === undefined) return null
  if (typeof m['running'] !== 'boolean' || !Number.isSafeInteger(m['step']) || (m['step'] as number) < 0) return null
  return { sessionId: m['sessionId'], runId, running: m['running'], step: m['step'] as number }
}

function local(): Storage | null {
  try {
    // Tabs are pages: outside one (the stores' unit tests run in plain Node) there are no peers.
    return typeof document !== 'undefined' && typeof localStorage === 'object' ? localStorage : null
  } catch {
    return null // storage disabled for this origin
  }
}

/** This page's record key, once it has one. */
let selfKey: string | null = null

/**
 * Keep this page's record: what `current()` shows, written now, when `changed` is called, and on a
 * heartbeat; removed when the page goes. Returns `changed` and a stop function.
 */
export function announce(current: () => PeerSession | null): { changed(): void; stop(): void } {
  const store = local()
  if (!store) return { changed: () => undefined, stop: () => undefined }
  const key = PREFIX + (Math.random().toString(36).slice(2, 12) || 'n')
  selfKey = key
  const write = (): void => {
    const s = current()
    try {
      if (s) store.setItem(key, JSON.stringify({ ...s, at: Date.now() }))
      else store.removeItem(key)
    } catch {
      // Storage full or disabled: a second tab builds its own session, as before.
    }
  }
  write()
  const timer = setInterval(write, HEARTBEAT_MS)
  const gone = (): void => {
    try {
      store.removeItem(key)
    } catch {
      // as above
    }
  }
  // Back from the back/forward cache: open again.
  const shown = (ev: Event): void => void ((ev as PageTransitionEvent).persisted && write())
  globalThis.addEventListener?.('pagehide', gone)
  globalThis.addEventListener?.('pageshow', shown)
  return {
    changed: write,
    stop() {
      clearInterval(timer)
      gone()
      globalThis.removeEventListener?.('pagehide', gone)
      globalThis.removeEventListener?.('pageshow', shown)
    },
  }
}

/** The sessions this profile's other open pages show, the one to continue first (running, then furthest along). */
export function peerSessions(now = Date.now()): PeerSession[] {
  const store = local()
  if (!store) return []
  const found = new Map<string, PeerSession>()
  try {
    for (const key of Object.keys(store).filter((k) => k.startsWith(PREFIX) && k !== selfKey)) {
      const s = read(store.getItem(key), now)
      if (!s)
        store.removeItem(key) // a crashed tab's, or garbage
      else if (found.size < MAX_RECORDS) found.set(s.sessionId, s)
    }
  } catch {
    return []
  }
  return [...found.values()].sort((a, b) => Number(b.running) - Number(a.running) || b.step - a.step)
}

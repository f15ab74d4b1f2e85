// Serve mode's resumable clients: a page reload closes its WebSocket, and without this the host
// would dispose the sessions that connection owned. A connection that asks for it (?resume= on the
// socket URL) is given a secret resume key; when it closes, its client is kept for a grace period,
// and a new connection presenting that key within it takes the client over (same client id, so the
// same sessions). Keys are random, single-use (a takeover issues a new one) and only name a client
// whose connection has closed, so a duplicated tab holding a copy of a live key gets a client of
// its own. A client nobody takes over is released when the grace period ends.
import { randomBytes } from 'node:crypto'

/** How long a closed connection's client (and its sessions) waits to be taken over. */
export const RESUME_GRACE_MS = 30_000
/**
 * A page that said it left (its tab closed, or it reloads) waits at most this long: a reload
 * connects again within it, and a closed tab's runs read "saved" in the other tabs soon after,
 * not half a minute later. A connection that dropped without a word (sleep, network) keeps the
 * full grace.
 */
export const LEFT_GRACE_MS = 5_000
/** Close codes of a page that left: the browser's "going away" (1001) and the page's own pagehide close. */
export const PAGE_LEFT_CODES: readonly number[] = [1001, 4001]

/** What a resume key looks like on the wire (base64url of 32 random bytes). */
export const RESUME_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/

interface Kept {
  client: string
  /** Null while its connection is open; the release timer once it has closed. */
  timer: ReturnType<typeof setTimeout> | null
}

export interface Attached {
  client: string
  /** The key to present next time; null when the connection did not ask to be resumable. */
  key: string | null
  /** Whether this connection took over an earlier one's client. */
  resumed: boolean
}

export class ResumableClients {
  private readonly byKey = new Map<string, Kept>()
  private next = 1
  private stopped = false

  /**
   * @param release the client left for good: the host disposes what it owned.
   * @param maxWaiting closed clients kept at once; beyond it the longest waiting is released now.
   */
  constructor(
    private readonly release: (client: string) => void,
    private readonly graceMs = RESUME_GRACE_MS,
    private readonly maxWaiting = 32,
  ) {}

  /** The client of a new connection. `resume`: the socket URL's ?resume= (null: not asked, '': no key yet). */
  attach(resume: string | null): Attached {
    if (resume === null) return { client: this.newClient(), key: null, resumed: false }
    const kept = RESUME_KEY_PATTERN.test(resume) ? this.byKey.get(resume) : undefined
    let client: string
    if (kept?.timer) {
      clearTimeout(kept.timer)
      this.byKey.delete(resume)
      client = kept.client
    } else client = this.newClient()
    const key = randomBytes(32).toString('base64url')
    this.byKey.set(key, { client, timer: null })
    return { client, key, resumed: client === kept?.client }
  }

  /**
   * A connection closed (with `code`): its client waits for a takeover (when it has a key) or is
   * released now; a page that said it left waits only LEFT_GRACE_MS.
   */
  detach(attached: Attached, code?: number): void {
    const kept = attached.key === null ? undefined : this.byKey.get(attached.key)
    if (!kept || this.stopped) return kept ? this.leave(attached.key!) : this.release(attached.client)
    const wait = code !== undefined && PAGE_LEFT_CODES.includes(code) ? Math.min(this.graceMs, LEFT_GRACE_MS) : this.graceMs
    kept.timer = setTimeout(() => this.leave(attached.key!), wait)
    // Re-inserted, so the map lists waiting clients in the order their connections closed.
    this.byKey.delete(attached.key!)
    this.byKey.set(attached.key!, kept)
    const waiting = [...this.byKey].filter(([, k]) => k.timer !== null)
    if (waiting.length > this.maxWaiting) this.leave(waiting[0]![0])
  }

  /** The server stops: every waiting client is released now. */
  close(): void {
    this.stopped = true
    for (const [key, kept] of this.byKey) if (kept.timer) this.leave(key)
  }

  private leave(key: string): void {
    const kept = this.byKey.get(key)
    if (!kept) return
    if (kept.timer) clearTimeout(kept.timer)
    this.byKey.delete(key)
    this.release(kept.client)
  }

  private newClient(): string {
    return `ws${this.next++}`
  }
}

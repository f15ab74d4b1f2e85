// Which client (a browser connection or an Electron window, as the main side tagged it) a request
// came from, and what each client owns. A session belongs to the client whose request created it
// (session.create, runs.open, whichever), from the moment creation starts: a client that leaves
// while its create is still in flight gets nothing, and a finished one is disposed on release.
import { AsyncLocalStorage } from 'node:async_hooks'

const context = new AsyncLocalStorage<string | null>()

/** The client whose request is being handled (across awaits), or null when untagged. */
export function currentClient(): string | null {
  return context.getStore() ?? null
}

/** Run a request's handler as `client`. */
export function asClient<T>(client: string | null, fn: () => T): T {
  return context.run(client, fn)
}

/** Released clients remembered so a create finishing late is refused; ids are never reused. */
const MAX_REMEMBERED = 10_000

/**
 * Which clients hold each session. The client whose request created a session holds it from the
 * start; another client (a second tab showing the same session) holds it too once it attaches. A
 * session is disposed when its last holder lets go of it or leaves, never while a tab still shows it.
 */
export class Ownership {
  private readonly byClient = new Map<string, Set<string>>()
  private readonly holders = new Map<string, Set<string>>()
  private readonly released = new Set<string>()

  isReleased(client: string | null): boolean {
    return client !== null && this.released.has(client)
  }

  /** `client` holds `sessionId` (the creator, or a tab that attached); untagged requests hold nothing. */
  add(client: string | null, sessionId: string): void {
    if (client === null) return
    let holders = this.holders.get(sessionId)
    if (!holders) this.holders.set(sessionId, (holders = new Set()))
    holders.add(client)
    let set = this.byClient.get(client)
    if (!set) this.byClient.set(client, (set = new Set()))
    set.add(sessionId)
  }

  /** Whether a client other than `client` holds the session. */
  heldByOthers(sessionId: string, client: string | null): boolean {
    const holders = this.holders.get(sessionId)
    return holders !== undefined && [...holders].some((c) => c !== client)
  }

  /** `client` lets go of `sessionId`; true when nobody holds it any more. */
  letGo(client: string, sessionId: string): boolean {
    this.byClient.get(client)?.delete(sessionId)
    if (this.byClient.get(client)?.size === 0) this.byClient.delete(client)
    const holders = this.holders.get(sessionId)
    holders?.delete(client)
    if (holders?.size !== 0) return holders === undefined
    this.holders.delete(sessionId)
    return true
  }

  /** The session is gone (disposed by anyone). */
  remove(sessionId: string): void {
    for (const client of this.holders.get(sessionId) ?? []) {
      const set = this.byClient.get(client)
      set?.delete(sessionId)
      if (set?.size === 0) this.byClient.delete(client)
    }
    this.holders.delete(sessionId)
  }

  /** The client left: returns the sessions nobody holds any more; later creates for it are refused. */
  release(client: string): string[] {
    this.released.add(client)
    if (this.released.size > MAX_REMEMBERED) this.released.delete(this.released.values().next().value as string)
    return [...(this.byClient.get(client) ?? [])].filter((id) => this.letGo(client, id))
  }
}

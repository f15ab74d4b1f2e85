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

export class Ownership {
  private readonly byClient = new Map<string, Set<string>>()
  private readonly owners = new Map<string, string>()
  private readonly released = new Set<string>()

  isReleased(client: string | null): boolean {
    return client !== null && this.released.has(client)
  }

  add(client: string | null, sessionId: string): void {
    if (client === null) return
    this.owners.set(sessionId, client)
    let set = this.byClient.get(client)
    if (!set) this.byClient.set(client, (set = new Set()))
    set.add(sessionId)
  }

  ownerOf(sessionId: string): string | undefined {
    return this.owners.get(sessionId)
  }

  /** The session is gone (disposed by anyone). */
  remove(sessionId: string): void {
    const client = this.owners.get(sessionId)
    if (client === undefined) return
    this.owners.delete(sessionId)
    const set = this.byClient.get(client)
    set?.delete(sessionId)
    if (set?.size === 0) this.byClient.delete(client)
  }

  /** The client left: returns the sessions it owned; later creates for it are refused. */
  release(client: string): string[] {
    this.released.add(client)
    if (this.released.size > MAX_REMEMBERED) this.released.delete(this.released.values().next().value as string)
    const ids = [...(this.byClient.get(client) ?? [])]
    for (const id of ids) this.remove(id)
    return ids
  }
}

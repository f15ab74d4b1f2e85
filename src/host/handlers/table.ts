// The host's request handlers as typed tables. Each domain module states the request kinds it
// answers (HandlerTable<K>); composeHandlers joins the domains' tables into the host's one table,
// and its type refuses a composition that leaves a RequestKind without a handler or handles one
// twice (the compile error names the kinds). The same is checked again when the table is built.
import { REQUEST_KINDS, type ParsedPayload, type RequestKind, type RequestResult } from '../../shared/protocol'
import { HostError } from '../errors'

export type Handler<K extends RequestKind> = (payload: ParsedPayload<K>) => RequestResult<K> | Promise<RequestResult<K>>

/** Exactly one handler for each kind in K. */
export type HandlerTable<K extends RequestKind> = { [P in K]: Handler<P> }

type AnyTable = Partial<HandlerTable<RequestKind>>
/** The kinds a table (or each table of a union) handles. */
type KindsOf<T> = T extends unknown ? keyof T & RequestKind : never
/** Kinds that two of the tables both handle. */
type HandledTwice<T extends readonly AnyTable[]> = T extends readonly [infer H, ...infer R extends readonly AnyTable[]]
  ? (KindsOf<H> & KindsOf<R[number]>) | HandledTwice<R>
  : never
/** Kinds no table handles (spelled out, so a compile error lists them). */
type Unhandled<T extends readonly AnyTable[]> = RequestKind extends infer K ? (K extends KindsOf<T[number]> ? never : K) : never

/** The tables themselves when they compose; otherwise a type they lack, naming the kinds at fault. */
type Composable<T extends readonly AnyTable[]> = [HandledTwice<T>] extends [never]
  ? [Unhandled<T>] extends [never]
    ? T
    : { unhandled: Unhandled<T> }
  : { handledTwice: HandledTwice<T> }

/** One table over every request kind from the domains' tables; each kind in exactly one of them. */
export function composeHandlers<const T extends readonly AnyTable[]>(tables: T & Composable<T>): HandlerTable<RequestKind> {
  const table: Record<string, unknown> = {}
  const known = new Set<string>(REQUEST_KINDS)
  for (const t of tables as readonly AnyTable[]) {
    for (const [kind, handler] of Object.entries(t)) {
      if (!known.has(kind)) throw new HostError('internal', `composeHandlers: "${kind}" is not a request kind of the protocol`)
      if (kind in table) throw new HostError('internal', `composeHandlers: "${kind}" is handled by two domains`)
      table[kind] = handler
    }
  }
  const missing = REQUEST_KINDS.filter((k) => !(k in table))
  if (missing.length > 0) throw new HostError('internal', `composeHandlers: no handler for ${missing.join(', ')}`)
  return table as HandlerTable<RequestKind>
}

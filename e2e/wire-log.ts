// The engine protocol as a page speaks it over its WebSocket (serve mode), recorded from the test
// side: tests wait until the host has answered a request instead of waiting a while.
import type { Page } from '@playwright/test'

/** Requests sent and replies received; call before the page opens its WebSocket (before goto). */
export function wireLog(page: Page) {
  type Payload = Record<string, unknown>
  const sent: { id: number; kind: string; payload: Payload }[] = []
  /** Request id → the host's reply. */
  const answered = new Map<number, { ok: boolean; result?: Payload }>()
  const parse = (data: string | Buffer): Record<string, unknown> | null => {
    try {
      return JSON.parse(String(data)) as Record<string, unknown>
    } catch {
      return null
    }
  }
  page.on('websocket', (ws) => {
    ws.on('framesent', ({ payload }) => {
      const m = parse(payload)
      if (m && typeof m['id'] === 'number' && typeof m['kind'] === 'string') sent.push(m as (typeof sent)[number])
    })
    ws.on('framereceived', ({ payload }) => {
      const m = parse(payload)
      if (m && typeof m['id'] === 'number' && 'ok' in m) answered.set(m['id'], m as { ok: boolean; result?: Payload })
    })
  })
  /** The result of the latest `kind` request whose payload matches and which was answered ok; null before. */
  const result = (kind: string, match: (p: Payload) => boolean): Payload | null => {
    const reply = sent
      .filter((m) => m.kind === kind && match(m.payload))
      .map((m) => answered.get(m.id))
      .filter((r) => r?.ok)
      .at(-1)
    return reply?.result ?? null
  }
  return {
    /** Whether a session.update setting `key` to `value` has been applied. */
    updated: (key: string, value: unknown): boolean => result('session.update', (p) => key in p && p[key] === value) !== null,
    /** The id of the session built on the uploaded CSV with this target and task; null before. */
    csvSession: (target: string, task: string): string | null => {
      const r = result('session.create', (p) => {
        const d = p['data'] as Payload
        return d['source'] === 'csv' && d['target'] === target && d['task'] === task
      })
      return r ? ((r['state'] as Payload)['sessionId'] as string) : null
    },
  }
}

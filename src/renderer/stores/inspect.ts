// What the network and graph views inspect, shared by both: which session they show (none while a
// structural edit waits for its rebuild, so a view never shows one model's numbers over another
// model's structure) and gradient checks on demand, per parameter, dropped when the session
// changes. Each view's snapshots live in its feature's store.
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import type { RequestResult } from '../../shared/protocol'
import { EngineRequestError, getEngineClient } from '../engine'
import { useSessionStore } from './session'

type GradcheckResult = RequestResult<'session.gradcheck'>

export type GradcheckState =
  { status: 'running' } | { status: 'done'; result: GradcheckResult; step: number } | { status: 'error'; message: string }

/** Relative errors below these get ✓ and ≈; above, ✗ (float64 central differences on the host). */
export const GRADCHECK_GOOD = 1e-6
export const GRADCHECK_OK = 1e-4

export function gradcheckVerdict(relError: number): { mark: '✓' | '≈' | '✗'; words: string } {
  if (relError < GRADCHECK_GOOD) return { mark: '✓', words: 'matches finite differences' }
  if (relError < GRADCHECK_OK) return { mark: '≈', words: 'close (a kink nearby?)' }
  return { mark: '✗', words: 'disagrees with finite differences' }
}

/** A failed inspection request as the view shows it (never thrown). */
export function inspectError(err: unknown): string {
  if (err instanceof EngineRequestError) return err.code === 'disconnected' ? `Not connected to the engine: ${err.message}` : err.message
  return err instanceof Error ? err.message : String(err)
}

export const useInspectStore = defineStore('inspect', () => {
  const session = useSessionStore()
  const client = getEngineClient()

  /** The session the views should show: none while a structural edit waits for its rebuild. */
  const sessionId = computed(() => (session.stale ? null : (session.info?.state.sessionId ?? null)))
  const step = computed(() => session.state?.step ?? 0)
  const gradchecks = ref<Record<string, GradcheckState>>({})

  watch(sessionId, () => (gradchecks.value = {}))

  async function checkGradient(param: string, maxElements = 50): Promise<void> {
    const id = sessionId.value
    if (!id || gradchecks.value[param]?.status === 'running') return
    const atStep = step.value
    gradchecks.value = { ...gradchecks.value, [param]: { status: 'running' } }
    let next: GradcheckState
    try {
      next = { status: 'done', result: await client.request('session.gradcheck', { sessionId: id, param, maxElements }), step: atStep }
    } catch (err) {
      next = { status: 'error', message: inspectError(err) }
    }
    if (id === sessionId.value) gradchecks.value = { ...gradchecks.value, [param]: next }
  }

  return { sessionId, step, gradchecks, checkGradient }
})

// The error banner: messages for the user, each shown once with a count of its repeats, and how a
// failure (a refused request, a form the schema rejects, anything thrown) reads in it.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { EngineRequestError } from '../engine'

export interface UiError {
  id: number
  message: string
  /** How many times the same message was raised while it was shown. */
  count: number
  /**
   * What the message is about, and so when it is out of date: 'form', the settings as they were
   * (gone once they change: the fix, or a new problem); 'session', the session it was raised in
   * (gone on reset, on a rebuild or a new session, and when the data changes). Without a topic it
   * stays until dismissed.
   */
  topic?: ErrorTopic
}

export type ErrorTopic = 'form' | 'session'

/** The form failed local validation: the message names the field (`optimizer.lr: …`). */
export class FormError extends Error {}

const PREFIX: Partial<Record<EngineRequestError['code'], string>> = {
  disconnected: 'Not connected to the engine',
  host_crashed: 'The engine host crashed',
  invalid_payload: 'The engine refused the settings',
  backend_unavailable: 'Backend unavailable',
}

/** What the banner says about `err`. */
export function errorMessage(err: unknown): string {
  if (err instanceof FormError) return `Check the settings: ${err.message}`
  if (!(err instanceof EngineRequestError)) return err instanceof Error ? err.message : String(err)
  const prefix = PREFIX[err.code]
  return prefix ? `${prefix}: ${err.message}` : err.message
}

export const useErrorsStore = defineStore('errors', () => {
  const errors = ref<UiError[]>([])
  let nextErrorId = 1

  function pushError(message: string, topic?: ErrorTopic): void {
    const same = errors.value.find((e) => e.message === message)
    if (same) same.count++
    else errors.value.push({ id: nextErrorId++, message, count: 1, ...(topic ? { topic } : {}) })
  }
  /** Drop the banners about one topic (what they said is out of date). */
  function clearTopic(topic: ErrorTopic): void {
    errors.value = errors.value.filter((e) => e.topic !== topic)
  }
  function dismissError(id: number): void {
    errors.value = errors.value.filter((e) => e.id !== id)
  }

  return { errors, pushError, dismissError, clearTopic }
})

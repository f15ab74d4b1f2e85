// Tests wait on states, never on time windows: `until` polls a condition while the host's loop
// runs, so a slow or loaded machine only makes the wait longer, never the test wrong. The cap only
// turns a hang into a failure that says what was awaited (keep it under the test's own timeout).
import { performance } from 'node:perf_hooks'

export async function until(cond: () => boolean, what: string, capMs = 4_000): Promise<void> {
  const start = performance.now()
  while (!cond()) {
    if (performance.now() - start > capMs) throw new Error(`still waiting after ${capMs / 1000} s for ${what}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

/** Let the event loop turn `n` times (the host's ticks are setImmediate callbacks queued before ours). */
export async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r))
}

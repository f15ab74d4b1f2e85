// Actions that run one at a time, in the order they were asked for (a Play pressed during a
// rebuild acts on the new session): each waits for the one before, sets `busy` while it runs,
// and hands a failure to `report` instead of rejecting, resolving to whether it succeeded.
import type { Ref } from 'vue'

export function createSerial(busy: Ref<boolean>, report: (err: unknown) => void): (fn: () => Promise<void>) => Promise<boolean> {
  let chain: Promise<unknown> = Promise.resolve()
  return (fn) => {
    const run = chain.then(async () => {
      busy.value = true
      try {
        await fn()
        return true
      } catch (err) {
        report(err)
        return false
      } finally {
        busy.value = false
      }
    })
    chain = run
    return run
  }
}

// A regression table's weight decay. Small tables overfit: on the diabetes CSV (309 training rows)
// the default 8×8 tanh net under Adam 0.01 reaches a test R² near 0.5 by step 100 and falls to
// about 0.1 by step 2,000; with L2 0.01 it ends near 0.5. So while the user has not set L2 it
// follows the data: REGRESSION_L2 for regression, 0 otherwise. A user's own L2 is never overwritten.
import { watch } from 'vue'
import type { SessionForm, Task } from './session-form'

/**
 * λ in λ·Σw² over the weight matrices (host/training/penalty.ts), added to the mean squared error
 * of the standardised target: PyTorch's `loss + λ * sum(w.pow(2))`.
 */
export const REGRESSION_L2 = 0.01

/** L2's default for data of `task`. */
export function dataL2(task: Task): number {
  return task === 'regression' ? REGRESSION_L2 : 0
}

/** Whether `form`'s L2 is the default of data of `task` (what a form loaded from a run is judged by). */
export function isDataL2(form: SessionForm, task: Task | null): boolean {
  return task !== null && form.l2 === dataL2(task)
}

/**
 * Keep `form.l2` at the default of the form's data (its task once known: a CSV's auto task comes
 * with the preview) while `form.l2Auto`.
 */
export function followDataL2(form: SessionForm, task: () => Task | null): void {
  watch(
    [task, () => form.l2Auto],
    ([t, auto]) => {
      if (t !== null && auto && form.l2 !== dataL2(t)) form.l2 = dataL2(t)
    },
    { immediate: true },
  )
}

/** The user's own L2: from now on the data no longer sets it. */
export function chooseL2(form: SessionForm, value: number): void {
  form.l2 = value
  form.l2Auto = false
}

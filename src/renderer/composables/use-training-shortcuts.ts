// Wires the training shortcuts (shortcut-keys.ts) to the window while the component that calls it
// is shown: a view kept alive but hidden (another tab is open) leaves the keys alone.
import { onActivated, onBeforeUnmount, onDeactivated, onMounted } from 'vue'
import { shortcutFor, type Shortcut } from './shortcut-keys'

export function useTrainingShortcuts(run: (shortcut: Shortcut) => void): void {
  /** Space was taken on keydown: its keyup must not click the focused button or chip either. */
  let claimedSpace = false

  function onKeyDown(ev: KeyboardEvent): void {
    const target = ev.target instanceof HTMLElement ? ev.target : null
    const shortcut = shortcutFor(ev, target)
    if (!shortcut) return
    ev.preventDefault()
    if (ev.key === ' ') claimedSpace = true
    // Holding → keeps stepping; holding Space toggles once.
    if (shortcut === 'step' || !ev.repeat) run(shortcut)
  }
  function onKeyUp(ev: KeyboardEvent): void {
    if (ev.key !== ' ' || !claimedSpace) return
    claimedSpace = false
    ev.preventDefault()
  }

  const on = (): void => {
    window.addEventListener('keydown', onKeyDown)
    window.addEventListener('keyup', onKeyUp)
  }
  const off = (): void => {
    window.removeEventListener('keydown', onKeyDown)
    window.removeEventListener('keyup', onKeyUp)
  }
  onMounted(on)
  onActivated(on)
  onDeactivated(off)
  onBeforeUnmount(off)
}

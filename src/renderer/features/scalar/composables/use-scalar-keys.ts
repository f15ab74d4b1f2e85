// Arrow keys drive the replay while the explainer view has focus (never while typing a program).
import { useScalarStore } from '../stores/scalar'

const TYPING = new Set(['TEXTAREA', 'INPUT', 'SELECT'])

export function useScalarKeys(): (event: KeyboardEvent) => void {
  const store = useScalarStore()
  const actions: Record<string, () => void> = {
    ArrowRight: store.stepBackward,
    ArrowDown: store.stepBackward,
    ArrowLeft: store.undo,
    ArrowUp: store.undo,
    Home: store.reset,
    End: store.fullBackward,
  }
  return (event) => {
    const target = event.target as HTMLElement | null
    if (event.altKey || event.ctrlKey || event.metaKey || (target && TYPING.has(target.tagName))) return
    const action = actions[event.key]
    if (!action) return
    event.preventDefault()
    action()
  }
}

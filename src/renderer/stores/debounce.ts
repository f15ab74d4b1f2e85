// Named debounce timers: one pending call per name, restarted by each new call, cancellable.

export interface Debouncer<Name extends string> {
  /** Run `fn` after `ms`, unless the same name is called (or cancelled) again before then. */
  debounce(name: Name, ms: number, fn: () => void): void
  cancel(...names: Name[]): void
}

export function createDebouncer<Name extends string>(): Debouncer<Name> {
  const timers = new Map<Name, ReturnType<typeof setTimeout>>()
  return {
    debounce(name, ms, fn) {
      clearTimeout(timers.get(name))
      timers.set(
        name,
        setTimeout(() => (timers.delete(name), fn()), ms),
      )
    },
    cancel(...names) {
      for (const name of names) {
        clearTimeout(timers.get(name))
        timers.delete(name)
      }
    },
  }
}

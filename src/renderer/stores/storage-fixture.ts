// For the stores' unit tests (plain Node has no localStorage): a Storage kept in memory whose
// items Object.keys lists, as a browser's does.
export function memoryStorage(): Storage {
  const items: Record<string, string> = {}
  const api = {
    getItem: (k: string) => (Object.hasOwn(items, k) ? items[k]! : null),
    setItem: (k: string, v: string) => void (items[k] = String(v)),
    removeItem: (k: string) => void delete items[k],
  }
  return new Proxy(items, {
    get: (t, k) => (typeof k === 'string' && k in api ? api[k as keyof typeof api] : t[k as string]),
  }) as unknown as Storage
}

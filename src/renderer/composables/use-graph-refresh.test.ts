import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createRefresher } from './use-graph-refresh'

beforeEach(() => vi.useFakeTimers())
afterEach(() => vi.useRealTimers())

describe('live refresh', () => {
  it('fetches when the key changes, at most once per interval, and stops when stopped', async () => {
    let step = 0
    const fetch = vi.fn(async () => undefined)
    const r = createRefresher({ intervalMs: 400, fetch, key: () => `s1:${step}` })
    r.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(fetch).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(2000) // same step: nothing new to show
    expect(fetch).toHaveBeenCalledTimes(1)
    for (let i = 0; i < 10; i++) {
      step += 7 // training: the step moves every 100 ms
      await vi.advanceTimersByTimeAsync(100)
    }
    expect(fetch.mock.calls.length).toBeGreaterThanOrEqual(2)
    expect(fetch.mock.calls.length).toBeLessThanOrEqual(1 + Math.ceil(1000 / 400))
    r.stop()
    const calls = fetch.mock.calls.length
    step++
    await vi.advanceTimersByTimeAsync(5000)
    expect(fetch).toHaveBeenCalledTimes(calls)
  })

  it('never overlaps requests, and a slow host slows the polling down (≤ ⅓ of its time)', async () => {
    let step = 0
    let running = 0
    let maxRunning = 0
    const fetch = vi.fn(async () => {
      maxRunning = Math.max(maxRunning, ++running)
      await new Promise((resolve) => setTimeout(resolve, 1500))
      running--
    })
    const r = createRefresher({ intervalMs: 300, fetch, key: () => `s1:${++step}` })
    r.start()
    void r.refresh()
    await vi.advanceTimersByTimeAsync(8500)
    expect(maxRunning).toBe(1)
    // 1.5 s per fetch, then 3 s of rest: two fetches in 8.5 s (back to back would be six).
    expect(fetch).toHaveBeenCalledTimes(2)
    r.stop()
  })

  it('does nothing without a session, and refresh() fetches even when the key is unchanged', async () => {
    let key: string | null = null
    const fetch = vi.fn(async () => undefined)
    const r = createRefresher({ intervalMs: 300, fetch, key: () => key })
    r.start()
    await vi.advanceTimersByTimeAsync(1000)
    expect(fetch).not.toHaveBeenCalled()
    key = 's1:0'
    await vi.advanceTimersByTimeAsync(300)
    expect(fetch).toHaveBeenCalledTimes(1)
    await r.refresh()
    expect(fetch).toHaveBeenCalledTimes(2)
    r.stop()
  })

  it('a failed fetch is not retried in a tight loop', async () => {
    const fetch = vi.fn(async () => {
      throw new Error('no handler')
    })
    const r = createRefresher({ intervalMs: 300, fetch, key: () => 's1:0' })
    r.start()
    await vi.advanceTimersByTimeAsync(3000)
    expect(fetch).toHaveBeenCalledTimes(1)
    r.stop()
  })
})

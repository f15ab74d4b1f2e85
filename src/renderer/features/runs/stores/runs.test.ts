import { describe, expect, it, vi } from 'vitest'
import type { RequestMessage } from '../../../../shared/protocol'
import { FakeHost } from '../../../engine/fake-host'
import { MAX_POINTS, PAGE_SIZE, UNDO_MS, useRunsStore, type RunSummary } from './runs'
import { useFakeHost } from '../../../stores/fake-host-setup'

const STORAGE = { dir: '/data/runs', writable: true }

function summary(runId: string, createdAt: string, lr = 0.01): RunSummary {
  return {
    runId,
    name: `run ${runId}`,
    tags: [],
    createdAt,
    updatedAt: createdAt,
    status: 'saved',
    steps: 100,
    checkpoints: [0, 100],
    lastTrainLoss: 0.2,
    lastTestLoss: 0.3,
    lastTestAccuracy: 0.9,
    spec: { optimizer: { type: 'adam', lr } },
    sessionId: null,
  }
}

/** The runs.* side of the host: a list with a trash, answering through FakeHost overrides. */
class FakeRuns {
  runs = [summary('r-aaaaaa', '2026-11-26T10:00:00Z'), summary('r-bbbbbb', '2026-11-26T11:00:00Z', 0.1)]
  trash: RunSummary[] = []

  constructor(host: FakeHost) {
    const find = (m: RequestMessage) => this.runs.find((r) => r.runId === (m.payload as { runId: string }).runId)
    const notFound = { error: { code: 'not_found' as const, message: 'no such run' } }
    // Pages as the host makes them: newest first, `limit` after the cursor (here: a run id).
    host.overrides.set('runs.list', (m) => {
      const { limit = 200, cursor } = m.payload as { limit?: number; cursor?: string }
      const all = [...this.runs].sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      const from = cursor ? all.findIndex((r) => r.runId === cursor) + 1 : 0
      const page = all.slice(from, from + limit)
      return {
        result: { runs: page, total: all.length, nextCursor: from + limit < all.length ? page.at(-1)!.runId : null, storage: STORAGE },
      }
    })
    host.overrides.set('runs.metrics', (m) => {
      const runId = (m.payload as { runId: string }).runId
      return { result: { runId, steps: [1, 2], trainLoss: [0.5, 0.4], evals: [], gradNorms: [], skippedLines: 0 } }
    })
    host.overrides.set('runs.rename', (m) => {
      const run = find(m)
      if (!run) return notFound
      run.name = (m.payload as { name: string }).name
      return { result: run }
    })
    host.overrides.set('runs.tag', (m) => {
      const run = find(m)
      if (!run) return notFound
      run.tags = (m.payload as { tags: string[] }).tags
      return { result: run }
    })
    host.overrides.set('runs.delete', (m) => {
      const run = find(m)
      if (!run) return notFound
      this.runs = this.runs.filter((r) => r !== run)
      this.trash.push(run)
      return { result: { runId: run.runId } }
    })
    host.overrides.set('runs.restore', (m) => {
      const run = this.trash.find((r) => r.runId === (m.payload as { runId: string }).runId)
      if (!run) return notFound
      this.trash = this.trash.filter((r) => r !== run)
      this.runs.push(run)
      return { result: run }
    })
    host.overrides.set('runs.export', () => ({
      result: { files: [{ name: 'model.py', mediaType: 'text/x-python', encoding: 'utf8', content: 'import torch' }] },
    }))
  }
}

let host: FakeHost
let fake: FakeRuns

useFakeHost((h) => {
  host = h
  fake = new FakeRuns(host)
})

async function loaded() {
  const store = useRunsStore()
  await store.refresh()
  return store
}

describe('runs store', () => {
  it('lists runs newest first with the storage status', async () => {
    const store = await loaded()
    expect(store.runs.map((r) => r.runId)).toEqual(['r-bbbbbb', 'r-aaaaaa'])
    expect(store.storage).toEqual(STORAGE)
    expect(store.loaded).toBe(true)
    expect(store.error).toBeNull()
  })

  it('fetches the curves of a selected run once, and again on refresh only if the run changed', async () => {
    const store = await loaded()
    store.toggleSelected('r-aaaaaa', true)
    store.toggleSelected('r-aaaaaa', true)
    await vi.advanceTimersByTimeAsync(0)
    expect(host.last('runs.metrics')!.payload).toEqual({ runId: 'r-aaaaaa', maxPoints: MAX_POINTS })
    expect(store.compared.map((c) => c.run.runId)).toEqual(['r-aaaaaa'])
    store.toggleSelected('r-bbbbbb', true)
    await vi.advanceTimersByTimeAsync(0)
    expect(store.compared.map((c) => c.run.runId)).toEqual(['r-bbbbbb', 'r-aaaaaa'])
    expect(host.kinds().filter((k) => k === 'runs.metrics')).toHaveLength(2)
    await store.refresh()
    expect(host.kinds().filter((k) => k === 'runs.metrics')).toHaveLength(2)
    fake.runs[1]!.updatedAt = '2026-11-26T11:30:00Z'
    await store.refresh()
    expect(host.kinds().filter((k) => k === 'runs.metrics')).toHaveLength(3)
    await store.refresh()
    expect(host.kinds().filter((k) => k === 'runs.metrics')).toHaveLength(3) // nothing changed since
    store.toggleSelected('r-bbbbbb', false)
    expect(store.selected).toEqual(['r-aaaaaa'])
  })

  it('loads a page at a time: the total, then older runs on "load more"', async () => {
    fake.runs = Array.from({ length: 250 }, (_, i) =>
      summary(`r-p${String(i).padStart(5, '0')}`, new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString()),
    )
    const store = await loaded()
    expect(host.last('runs.list')!.payload).toEqual({ includeDeleted: false, limit: PAGE_SIZE })
    expect(store.runs).toHaveLength(PAGE_SIZE)
    expect(store.total).toBe(250)
    expect(store.runs[0]!.runId).toBe('r-p00249')
    await store.loadMore()
    await store.loadMore()
    expect(store.runs.map((r) => r.runId)).toEqual(fake.runs.map((r) => r.runId).reverse())
    expect(store.nextCursor).toBeNull()
    const calls = host.kinds().filter((k) => k === 'runs.list').length
    await store.loadMore() // nothing left: no request
    expect(host.kinds().filter((k) => k === 'runs.list')).toHaveLength(calls)
  })

  it('follows runs.changed without polling: new, changed and removed runs, the storage status', async () => {
    const store = await loaded()
    store.toggleSelected('r-aaaaaa', true)
    await vi.advanceTimersByTimeAsync(0)
    const requests = host.requests.length
    // Time passes: nothing is asked of the host (no poll, not even with a live run).
    host.emit('runs.changed', { runs: [{ ...summary('r-aaaaaa', '2026-11-26T10:00:00Z'), status: 'live', sessionId: 's1' }], removed: [] })
    await vi.advanceTimersByTimeAsync(60_000)
    expect(host.requests.length).toBe(requests)
    expect(store.runs.find((r) => r.runId === 'r-aaaaaa')!.status).toBe('live')
    // A checkpoint saved (updatedAt moves): its curves are fetched again, once.
    host.emit('runs.changed', {
      runs: [{ ...summary('r-aaaaaa', '2026-11-26T10:00:00Z'), updatedAt: '2026-11-26T12:00:00Z', steps: 250 }],
      removed: [],
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(host.kinds().slice(requests)).toEqual(['runs.metrics'])
    // A new run arrives on top; a trashed one goes; a storage problem shows.
    host.emit('runs.changed', {
      runs: [summary('r-cccccc', '2026-11-26T12:00:00Z')],
      removed: ['r-bbbbbb'],
      storage: { dir: '/data/runs', writable: false, message: 'runs cannot be saved: the disk is full (ENOSPC)' },
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(store.runs.map((r) => r.runId)).toEqual(['r-cccccc', 'r-aaaaaa'])
    expect(store.total).toBe(2)
    expect(store.storage!.writable).toBe(false)
    // A damaged run is listed with its reason.
    host.emit('runs.changed', {
      runs: [{ ...summary('r-dddddd', '2026-11-26T13:00:00Z'), status: 'damaged', damaged: { reason: 'run.json is not valid JSON' } }],
      removed: [],
    })
    await vi.advanceTimersByTimeAsync(0)
    expect(store.runs[0]).toMatchObject({ runId: 'r-dddddd', status: 'damaged', damaged: { reason: 'run.json is not valid JSON' } })
  })

  it('renames and tags a run in place', async () => {
    const store = await loaded()
    await store.rename('r-aaaaaa', 'baseline')
    await store.setTags('r-aaaaaa', ['adam', 'spiral'])
    expect(store.runs.find((r) => r.runId === 'r-aaaaaa')).toMatchObject({ name: 'baseline', tags: ['adam', 'spiral'] })
    expect(store.runs).toHaveLength(2)
  })

  it('deletes with an undo that restores the run, offered for UNDO_MS', async () => {
    const store = await loaded()
    store.toggleSelected('r-aaaaaa', true)
    await store.remove('r-aaaaaa')
    expect(store.runs.map((r) => r.runId)).toEqual(['r-bbbbbb'])
    expect(store.selected).toEqual([])
    expect(store.pendingDelete).toEqual({ runIds: ['r-aaaaaa'], name: 'run r-aaaaaa' })
    await store.undoDelete()
    expect(host.last('runs.restore')!.payload).toEqual({ runId: 'r-aaaaaa' })
    expect(store.runs.map((r) => r.runId)).toEqual(['r-bbbbbb', 'r-aaaaaa'])
    expect(store.pendingDelete).toBeNull()

    await store.remove('r-bbbbbb')
    await vi.advanceTimersByTimeAsync(UNDO_MS - 1)
    expect(store.pendingDelete).not.toBeNull()
    await vi.advanceTimersByTimeAsync(1)
    expect(store.pendingDelete).toBeNull()
    await store.undoDelete()
    expect(host.kinds().filter((k) => k === 'runs.restore')).toHaveLength(1)
  })

  it('deletes a batch (Clean up) with one undo for all; a refusal midway keeps the undo for those moved', async () => {
    const store = await loaded()
    await store.removeMany(['r-aaaaaa', 'r-bbbbbb'], '2 runs')
    expect(store.runs).toEqual([])
    expect(store.total).toBe(0)
    expect(store.pendingDelete).toEqual({ runIds: ['r-aaaaaa', 'r-bbbbbb'], name: '2 runs' })
    await store.undoDelete()
    expect(host.kinds().filter((k) => k === 'runs.restore')).toHaveLength(2)
    expect(store.runs.map((r) => r.runId)).toEqual(['r-bbbbbb', 'r-aaaaaa'])
    expect(store.total).toBe(2)

    await store.removeMany(['r-aaaaaa', 'r-gone00', 'r-bbbbbb'], '3 runs')
    expect(store.error).toBe('no such run')
    expect(store.runs.map((r) => r.runId)).toEqual(['r-bbbbbb'])
    expect(store.pendingDelete).toEqual({ runIds: ['r-aaaaaa'], name: 'run r-aaaaaa' })
  })

  it('shows an error reply and keeps the list as it was', async () => {
    const store = await loaded()
    host.overrides.set('runs.rename', () => ({ error: { code: 'engine', message: 'runs.rename: the data directory is read-only' } }))
    await store.rename('r-aaaaaa', 'x')
    expect(store.error).toBe('runs.rename: the data directory is read-only')
    expect(store.runs.find((r) => r.runId === 'r-aaaaaa')!.name).toBe('run r-aaaaaa')
  })

  it('exports a run, with the checkpoint only when one is chosen', async () => {
    const store = await loaded()
    expect(await store.exportRun('r-aaaaaa', 'pytorch')).toEqual([
      { name: 'model.py', mediaType: 'text/x-python', encoding: 'utf8', content: 'import torch' },
    ])
    expect(host.last('runs.export')!.payload).toEqual({ runId: 'r-aaaaaa', format: 'pytorch' })
    await store.exportRun('r-aaaaaa', 'onnx', 0)
    expect(host.last('runs.export')!.payload).toEqual({ runId: 'r-aaaaaa', format: 'onnx', checkpointStep: 0 })
  })
})

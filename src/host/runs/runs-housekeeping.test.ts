// Runs that are worth keeping, under names a person recognises: a session rebuilt before its first
// step leaves no run behind (not even in the trash), a trained one is kept; names come from the data
// and the model's shape, with an uploaded file's own name rather than its content id.
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { spec } from '../test-helpers'
import { modelName } from './run-name'
import { DISCARD_PREFIX } from './run-discard'
import { cleanupAfterEach, make, tempDir } from './test-helpers'
import { RunStore } from './store'

cleanupAfterEach()

const layer = (inFeatures: number, outFeatures: number, activation = 'tanh') => ({ inFeatures, outFeatures, activation })

describe('untrained runs', () => {
  it('are removed when their session goes before its first step (a rebuild); trained ones stay', { timeout: 30_000 }, async () => {
    const dir = tempDir()
    const { ok } = make(dir)
    // Three rebuilds of the setup, then one that trains.
    for (let i = 0; i < 3; i++) {
      const info = await ok('session.create', spec({ model: { hidden: [4 + i] } }))
      expect(existsSync(join(dir, info.runId!))).toBe(true)
      await ok('session.dispose', { sessionId: info.state.sessionId })
      expect(existsSync(join(dir, info.runId!))).toBe(false)
    }
    const kept = await ok('session.create', spec())
    await ok('session.step', { sessionId: kept.state.sessionId, steps: 3 })
    await ok('session.dispose', { sessionId: kept.state.sessionId })
    const list = await ok('runs.list', { includeDeleted: true })
    expect(list.runs.map((r) => [r.runId, r.status, r.steps])).toEqual([[kept.runId, 'saved', 3]])
    expect(readdirSync(dir).filter((n) => n.startsWith('r'))).toEqual([kept.runId])
    expect(readdirSync(join(dir, '.trash'))).toEqual([])
  })

  it('sweeps at start the leftover of a removal that was cut short', async () => {
    const dir = tempDir()
    const { mkdirSync, writeFileSync } = await import('node:fs')
    mkdirSync(join(dir, `${DISCARD_PREFIX}r0000000-abcdef`, 'checkpoints'), { recursive: true })
    writeFileSync(join(dir, `${DISCARD_PREFIX}r0000000-abcdef`, 'run.json'), '{}')
    const store = new RunStore(dir)
    await store.ready
    expect(readdirSync(dir).filter((n) => n.startsWith(DISCARD_PREFIX))).toEqual([])
  })
})

describe('run names', () => {
  it('name the data and the model shape', async () => {
    const dir = tempDir()
    const { ok } = make(dir)
    const moons = await ok('session.create', spec({ data: { generator: 'moons', n: 200, seed: 1 }, model: { hidden: [8, 8] } }))
    const iris = await ok(
      'session.create',
      spec({ data: { source: 'bundled', name: 'iris' }, model: { hidden: [16], activation: 'relu' } }),
    )
    const names = Object.fromEntries((await ok('runs.list', {})).runs.map((r) => [r.runId, r.name]))
    expect(names[moons.runId!]).toBe('moons · 2×8 tanh')
    expect(names[iris.runId!]).toBe('iris · 4-16-3 relu')
  })

  it('use the uploaded file name, not its content id', async () => {
    const dir = tempDir()
    const { ok } = make(dir)
    const csv = 'a,b,label\n' + Array.from({ length: 40 }, (_, i) => `${i % 7},${i % 5},${i % 2}`).join('\n') + '\n'
    const bytes = new TextEncoder().encode(csv)
    const up = await ok('files.upload', {
      uploadId: 'uname001',
      name: 'my-table.csv',
      index: 0,
      total: 1,
      bytes: bytes.length,
      chunk: bytes,
    })
    const info = await ok('session.create', spec({ data: { source: 'csv', fileId: up.file!.fileId, target: 'label' } }))
    const run = (await ok('runs.list', {})).runs.find((r) => r.runId === info.runId)!
    expect(run.name).toBe('my-table.csv · 2-8-2 tanh')
  })

  it('shapes: uniform stacks as depth×width, others as every width', () => {
    expect(modelName([layer(2, 8), layer(8, 8), layer(8, 2, 'identity')])).toBe('2×8 tanh')
    expect(modelName([layer(784, 128, 'relu'), layer(128, 10, 'identity')])).toBe('784-128-10 relu')
    expect(modelName([layer(2, 8, 'relu'), layer(8, 4), layer(4, 2, 'identity')])).toBe('2-8-4-2 mixed')
    expect(modelName([layer(3, 1, 'identity')])).toBe('3-1 linear')
  })
})

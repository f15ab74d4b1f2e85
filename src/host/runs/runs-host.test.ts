// The run store through the engine host, as the renderer uses it: every session is a run,
// resume is exact (also after a crash and with live changes), time travel branches, runs are
// renamed, tagged, trashed, restored and exported.
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { okReply, parseReply } from '../../shared/protocol'
import { spec } from '../test-helpers'
import { adamSpec, checkpointTensors, cleanupAfterEach, make, tempDir } from './test-helpers'

cleanupAfterEach()

describe('runs: every session is a run', () => {
  it('create → train → runs.list shows it with its metrics and checkpoints; dispose saves it', async () => {
    const dir = tempDir()
    const { ok } = make(dir)
    const info = await ok('session.create', spec())
    expect(info.runId).toMatch(/^r[0-9a-z-]{6,40}$/)
    expect(parseReply('session.create', okReply(1, info)).ok).toBe(true)
    await ok('session.step', { sessionId: info.state.sessionId, steps: 230 })
    const listed = await ok('runs.list', {})
    expect(parseReply('runs.list', okReply(1, listed)).ok).toBe(true)
    expect(listed.storage).toEqual({ dir, writable: true })
    expect(listed.runs).toHaveLength(1)
    const run = listed.runs[0]
    expect(run).toMatchObject({
      runId: info.runId,
      status: 'live',
      sessionId: info.state.sessionId,
      steps: 230,
      checkpoints: [0, 100, 200, 230],
    })
    expect(run.lastTrainLoss).toEqual(expect.any(Number))
    expect(run.lastTestLoss).toEqual(expect.any(Number))
    expect(run.spec).toEqual(info.spec)
    const m = await ok('runs.metrics', { runId: info.runId!, maxPoints: 20_000 })
    expect(parseReply('runs.metrics', okReply(1, m)).ok).toBe(true)
    expect(m.steps).toEqual(Array.from({ length: 230 }, (_, i) => i + 1))
    expect(m.evals.map((e) => e.step)).toEqual([0, 50, 100, 150, 200])
    expect(m.gradNorms.length).toBeGreaterThan(0)
    expect(m.skippedLines).toBe(0)
    const small = await ok('runs.metrics', { runId: info.runId!, maxPoints: 10 })
    expect(small.steps.length).toBeLessThanOrEqual(10)
    expect(small.trainLoss[0]).toBeCloseTo(m.trainLoss.slice(0, 23).reduce((a, b) => a + b) / 23, 5)

    await ok('session.dispose', { sessionId: info.state.sessionId })
    const after = (await ok('runs.list', {})).runs[0]
    expect(after).toMatchObject({ status: 'saved', sessionId: null, steps: 230 })
    const rec = JSON.parse(readFileSync(join(dir, info.runId!, 'run.json'), 'utf8'))
    expect(rec).toMatchObject({ status: 'saved', backend: { name: 'cpu' }, appVersion: expect.any(String) })
    expect(Object.keys(checkpointTensors(dir, info.runId!, 230))).toEqual(
      expect.arrayContaining(['layers.0.weight', 'layers.1.bias', 'sampler.order']),
    )
  })

  // With blocks, the checkpoints carry BatchNorm's running statistics and the dropout generator too.
  const blocks = [
    { norm: 'batch' as const, normAt: 'mid' as const, dropout: 0.2, residual: false },
    { norm: 'batch' as const, normAt: 'mid' as const, dropout: 0.1, residual: true },
  ]
  const specs = {
    plain: adamSpec,
    'BatchNorm + dropout + residual': () => ({ ...adamSpec(), model: { hidden: [8, 8], blocks } }),
  }
  it.each(Object.keys(specs) as (keyof typeof specs)[])(
    'resume is exact: 300 steps, reopen in a new host, 200 more = 500 uninterrupted (%s)',
    async (kind) => {
      const adamSpec = specs[kind]
      const dirA = tempDir()
      const a = make(dirA)
      const runA = await a.ok('session.create', adamSpec())
      await a.ok('session.step', { sessionId: runA.state.sessionId, steps: 500 })
      await a.ok('session.dispose', { sessionId: runA.state.sessionId })

      const dirB = tempDir()
      const b1 = make(dirB)
      const runB = await b1.ok('session.create', adamSpec())
      await b1.ok('session.step', { sessionId: runB.state.sessionId, steps: 300 })
      b1.host.dispose() // the app closes
      const b2 = make(dirB)
      expect((await b2.ok('runs.list', {})).runs[0]).toMatchObject({ status: 'saved', checkpoints: [0, 100, 200, 300] })
      const opened = await b2.ok('runs.open', { runId: runB.runId! })
      expect(opened).toEqual({ sessionId: 's1', runId: runB.runId, step: 300 })
      expect(b2.of('session.state', 's1').at(-1)).toMatchObject({ status: 'paused', step: 300, epoch: Math.floor(300 / 7) }) // 140 rows, 7 batches an epoch: mid-epoch
      await b2.ok('session.step', { sessionId: opened.sessionId, steps: 200 })
      await b2.ok('session.dispose', { sessionId: opened.sessionId })

      const ta = checkpointTensors(dirA, runA.runId!, 500)
      const tb = checkpointTensors(dirB, runB.runId!, 500)
      expect(Object.keys(tb).sort()).toEqual(Object.keys(ta).sort())
      expect(Object.keys(ta)).toContain('optim.layers.0.weight.m')
      if (kind !== 'plain')
        expect(Object.keys(ta)).toEqual(
          expect.arrayContaining(['norms.1.running_var', 'norms.1.num_batches_tracked', 'optim.norms.0.weight.m']),
        )
      for (const k of Object.keys(ta)) expect(tb[k].data, k).toEqual(ta[k].data)
      const ma = await a.ok('runs.metrics', { runId: runA.runId!, maxPoints: 20_000 })
      const mb = await b2.ok('runs.metrics', { runId: runB.runId!, maxPoints: 20_000 })
      expect(mb.steps).toEqual(ma.steps)
      expect(mb.trainLoss).toEqual(ma.trainLoss)
      expect(mb.evals).toEqual(ma.evals)
    },
  )

  it('after a crash the run resumes at its last checkpoint, the log rewinds, and the result is still exact', async () => {
    const dir = tempDir()
    const a = make(dir)
    const run = await a.ok('session.create', adamSpec())
    await a.ok('session.step', { sessionId: 's1', steps: 230 })
    const at230 = checkpointTensors(dir, run.runId!, 230)
    a.host.dispose()
    // As a kill -9 at step 230 would leave it: still "live", its log ahead of its last checkpoint.
    const runDir = join(dir, run.runId!)
    rmSync(join(runDir, 'checkpoints', 'step-230.json'))
    const rec = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'))
    writeFileSync(join(runDir, 'run.json'), JSON.stringify({ ...rec, status: 'live' }))
    const b = make(dir)
    expect((await b.ok('runs.list', {})).runs[0]).toMatchObject({ status: 'interrupted', steps: 230, checkpoints: [0, 100, 200] })
    const opened = await b.ok('runs.open', { runId: run.runId! })
    expect(opened.step).toBe(200)
    expect((await b.ok('runs.metrics', { runId: run.runId!, maxPoints: 20_000 })).steps).toHaveLength(200)
    await b.ok('session.step', { sessionId: opened.sessionId, steps: 30 })
    const again = checkpointTensors(dir, run.runId!, 230)
    for (const k of Object.keys(at230)) expect(again[k].data, k).toEqual(at230[k].data)
    expect((await b.ok('runs.metrics', { runId: run.runId!, maxPoints: 20_000 })).steps).toEqual(
      Array.from({ length: 230 }, (_, i) => i + 1),
    )
  })

  it.each(Object.keys(specs) as (keyof typeof specs)[])(
    'time travel: opening an earlier checkpoint branches a new run that retraces the original (%s)',
    async (kind) => {
      const adamSpec = specs[kind]
      const dir = tempDir()
      const { ok, fail } = make(dir)
      const run = await ok('session.create', adamSpec())
      await ok('session.step', { sessionId: run.state.sessionId, steps: 400 })
      await ok('runs.rename', { runId: run.runId!, name: 'spiral' })
      const branch = await ok('runs.open', { runId: run.runId!, checkpointStep: 200 })
      expect(branch.runId).not.toBe(run.runId)
      expect(branch.step).toBe(200)
      const listed = await ok('runs.list', {})
      const b = listed.runs.find((r) => r.runId === branch.runId)!
      expect(b).toMatchObject({
        name: 'spiral (from step 200)',
        status: 'live',
        sessionId: branch.sessionId,
        steps: 200,
        checkpoints: [0, 100, 200],
      })
      expect((await ok('runs.metrics', { runId: branch.runId, maxPoints: 20_000 })).steps).toHaveLength(200)
      await ok('session.step', { sessionId: branch.sessionId, steps: 100 })
      const t1 = checkpointTensors(dir, run.runId!, 300)
      const t2 = checkpointTensors(dir, branch.runId, 300)
      for (const k of Object.keys(t1)) expect(t2[k].data, k).toEqual(t1[k].data)
      // The original keeps its later history.
      expect(listed.runs.find((r) => r.runId === run.runId)!.checkpoints).toEqual([0, 100, 200, 300, 400])
      expect(await fail('runs.open', { runId: run.runId!, checkpointStep: 150 })).toMatchObject({
        code: 'not_found',
        message: expect.stringContaining('0, 100, 200, 300, 400'),
      })
    },
  )

  it('rename, tag, delete (a live run stops) and restore; unknown ids are not_found', async () => {
    const dir = tempDir()
    const { ok, fail } = make(dir)
    const run = await ok('session.create', spec())
    const runId = run.runId!
    await ok('session.step', { sessionId: run.state.sessionId, steps: 20 })
    expect(await ok('runs.rename', { runId, name: 'first try' })).toMatchObject({ name: 'first try', status: 'live' })
    expect(await ok('runs.tag', { runId, tags: ['xor', 'baseline', 'xor'] })).toMatchObject({ tags: ['xor', 'baseline'] })
    await ok('session.step', { sessionId: run.state.sessionId, steps: 5 }) // a later save keeps the edits
    expect(JSON.parse(readFileSync(join(dir, runId, 'run.json'), 'utf8'))).toMatchObject({ name: 'first try', tags: ['xor', 'baseline'] })

    expect(await ok('runs.delete', { runId })).toEqual({ runId })
    expect(await fail('session.start', { sessionId: run.state.sessionId })).toMatchObject({ code: 'not_found' })
    expect((await ok('runs.list', {})).runs).toEqual([])
    expect((await ok('runs.list', { includeDeleted: true })).runs.map((r) => r.runId)).toEqual([runId])
    expect(await fail('runs.metrics', { runId })).toMatchObject({ code: 'not_found' })
    const restored = await ok('runs.restore', { runId })
    expect(restored).toMatchObject({ runId, name: 'first try', status: 'saved', steps: 25, checkpoints: [0, 20, 25] })
    expect(await fail('runs.restore', { runId })).toMatchObject({ code: 'not_found' })

    const missing = 'rzzzzzz-000000'
    for (const kind of ['runs.metrics', 'runs.rename', 'runs.tag', 'runs.delete', 'runs.open', 'runs.export'] as const) {
      const payload = { runId: missing, name: 'x', tags: [], format: 'json' }
      const p = Object.fromEntries(
        Object.entries(payload).filter(
          ([k]) =>
            k === 'runId' ||
            (kind === 'runs.rename' && k === 'name') ||
            (kind === 'runs.tag' && k === 'tags') ||
            (kind === 'runs.export' && k === 'format'),
        ),
      )
      expect(await fail(kind, p), kind).toMatchObject({ code: 'not_found' })
    }
    expect(await fail('runs.open', { runId: '../../main/etc' })).toMatchObject({ code: 'invalid_payload' })
  })

  it('a reset starts the run over: the log rewinds and later checkpoints go', async () => {
    const dir = tempDir()
    const { ok } = make(dir)
    const run = await ok('session.create', spec())
    await ok('session.step', { sessionId: 's1', steps: 120 })
    await ok('session.reset', { sessionId: 's1' })
    await ok('session.step', { sessionId: 's1', steps: 30 })
    const m = await ok('runs.metrics', { runId: run.runId!, maxPoints: 20_000 })
    expect(m.steps).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
    expect(m.evals.map((e) => e.step)).toEqual([0])
    expect((await ok('runs.list', {})).runs[0]).toMatchObject({ steps: 30, checkpoints: [0, 30] })
  })

  it('resume keeps live changes: the learning rate and batch size set mid-run', async () => {
    const train = async (h: ReturnType<typeof make>, sessionId: string, from: number, to: number) => {
      for (const [at, change] of [
        [60, { optimizer: { lr: 0.003 } }],
        [130, { batchSize: 9 }],
      ] as const) {
        if (at > from && at <= to) {
          await h.ok('session.step', { sessionId, steps: at - Math.max(from, (await h.ok('session.pause', { sessionId })).step) })
          await h.ok('session.update', { sessionId, ...change })
        }
      }
      const now = (await h.ok('session.pause', { sessionId })).step
      await h.ok('session.step', { sessionId, steps: to - now })
    }
    const dirA = tempDir()
    const a = make(dirA)
    const ra = await a.ok('session.create', adamSpec())
    await train(a, 's1', 0, 200)
    const dirB = tempDir()
    const b = make(dirB)
    const rb = await b.ok('session.create', adamSpec())
    await train(b, 's1', 0, 100)
    b.host.dispose()
    const b2 = make(dirB)
    const opened = await b2.ok('runs.open', { runId: rb.runId! })
    await train(b2, opened.sessionId, 100, 200)
    await a.ok('session.pause', { sessionId: 's1' })
    const ta = checkpointTensors(dirA, ra.runId!, 200)
    const tb = checkpointTensors(dirB, rb.runId!, 200)
    for (const k of Object.keys(ta)) expect(tb[k].data, k).toEqual(ta[k].data)
    expect(JSON.parse(readFileSync(join(dirB, rb.runId!, 'checkpoints', 'step-200.json'), 'utf8')).live).toMatchObject({
      batchSize: 9,
      optimizer: { lr: 0.003 },
    })
  })

  it('exports a run through the export module', async () => {
    const dir = tempDir()
    const { ok } = make(dir)
    const run = await ok('session.create', spec())
    await ok('session.step', { sessionId: run.state.sessionId, steps: 30 })
    const out = await ok('runs.export', { runId: run.runId!, format: 'metrics-csv' })
    expect(out.files).toHaveLength(1)
    expect(out.files[0].content.split('\n').filter((l) => /^\d/.test(l))).toHaveLength(31)
    const json = await ok('runs.export', { runId: run.runId!, format: 'json', checkpointStep: 0 })
    expect(json.files[0].encoding).toBe('utf8')
  })
})

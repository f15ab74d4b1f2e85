// runs.open reads a checkpoint's weights and batch order, not its optimiser state: Adam's moments
// (two thirds of a big run's checkpoint) are read from the file only when training continues, and
// continuing is still exact, also after the file was deleted meanwhile (the reader holds it open),
// from an earlier checkpoint (a branch, which links its parent's checkpoints rather than copying
// them), and never leaves the file open after a reset or dispose.
import { readFileSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { parseSafetensorsHeader } from '../../engine'
import { testHost } from '../test-helpers'
import { nodeFs, type FsOps } from './atomic'
import { optimizerDeferred } from './deferred-optimizer'
import { adamSpec, checkpointTensors, cleanupAfterEach, make, tempDir } from './test-helpers'

cleanupAfterEach()

/** Filesystem calls that record which byte ranges of which files were read, and which files are open. */
function watchedOps() {
  const paths = new Map<number, string>()
  const reads: { path: string; from: number; to: number }[] = []
  const ops: FsOps = {
    ...nodeFs,
    openSync: (p, flags, mode) => {
      const fd = nodeFs.openSync(p, flags, mode)
      paths.set(fd, p)
      return fd
    },
    readSync: (fd, data, off, len, pos) => {
      const n = nodeFs.readSync(fd, data, off, len, pos)
      reads.push({ path: paths.get(fd) ?? '?', from: pos, to: pos + n })
      return n
    },
    closeSync: (fd) => {
      paths.delete(fd)
      nodeFs.closeSync(fd)
    },
  }
  const open = (suffix: string) => [...paths.values()].filter((p) => p.endsWith(suffix))
  return { ops, reads, open }
}

/** The file's byte ranges of its optimiser tensors and of everything else. */
function layout(file: string) {
  const bytes = new Uint8Array(readFileSync(file))
  const h = parseSafetensorsHeader(bytes, bytes.length)
  const range = (e: (typeof h.entries)[number]) => ({ from: h.dataStart + e.begin, to: h.dataStart + e.end })
  return {
    optim: h.entries.filter((e) => e.name.startsWith('optim.')).map(range),
    rest: h.entries.filter((e) => !e.name.startsWith('optim.')).map(range),
  }
}

const overlaps = (a: { from: number; to: number }, b: { from: number; to: number }) => a.from < b.to && b.from < a.to

/** A 300-step Adam run saved in `dir` (checkpoints every 100); returns its id. */
async function savedRun(dir: string, steps = 300): Promise<string> {
  const h = make(dir)
  const created = await h.ok('session.create', adamSpec())
  await h.ok('session.step', { sessionId: created.state.sessionId, steps })
  await h.ok('session.dispose', { sessionId: created.state.sessionId })
  return created.runId!
}

function reopen(dir: string) {
  const watched = watchedOps()
  const h = testHost({ dataDir: dir, checkpoints: { every: 100 }, runStore: { ops: watched.ops } })
  const session = (id: string) => h.host['sessions'].get(id)!
  return { ...h, ...watched, session }
}

describe('runs.open defers the optimiser state', () => {
  it('reads none of its bytes until training continues, then continues exactly', async () => {
    const dirA = tempDir()
    const whole = await savedRun(dirA, 500)
    const dir = tempDir()
    const runId = await savedRun(dir)
    const file = join(dir, runId, 'checkpoints', 'step-300.safetensors')
    const { optim, rest } = layout(file)
    expect(optim.length).toBeGreaterThan(0)

    const b = reopen(dir)
    try {
      const create = vi.spyOn(b.host['registry'], 'create')
      const opened = await b.ok('runs.open', { runId })
      expect(opened.step).toBe(300)
      // The session is made without drawing initial weights (the checkpoint sets them all).
      expect(create.mock.calls.map((c) => c[2])).toEqual([{ restoring: true }])
      const fromFile = b.reads.filter((r) => r.path === file)
      // Every weight and the batch order were read; not one byte of the optimiser's buffers.
      for (const t of rest) expect(fromFile.some((r) => overlaps(r, t))).toBe(true)
      for (const t of optim) expect(fromFile.some((r) => overlaps(r, t))).toBe(false)
      const s = b.session(opened.sessionId)
      expect(optimizerDeferred(s.trainer)).toBe(true)
      // The session shows the run meanwhile: its weights are the checkpoint's.
      const saved = checkpointTensors(dir, runId, 300)
      expect(Float32Array.from(s.trainer.model.layers[0].weight.dataSync())).toEqual(saved['layers.0.weight'].data)

      // The file goes (as retention or a move to the trash could take it): the open reader still has it.
      rmSync(file)
      await b.ok('session.step', { sessionId: opened.sessionId, steps: 200 })
      for (const t of optim) expect(b.reads.some((r) => r.path === file && overlaps(r, t))).toBe(true)
      expect(optimizerDeferred(s.trainer)).toBe(false)
      expect(b.open('.safetensors')).toEqual([])
      await b.ok('session.dispose', { sessionId: opened.sessionId })
    } finally {
      b.host.dispose()
    }
    const ta = checkpointTensors(dirA, whole, 500)
    const tb = checkpointTensors(dir, runId, 500)
    expect(Object.keys(tb).sort()).toEqual(Object.keys(ta).sort())
    for (const k of Object.keys(ta)) expect(tb[k].data, k).toEqual(ta[k].data)
  }, 60_000)

  it('a branch from an earlier checkpoint reads its moments when it trains: 100 + 100 steps = the run at 200', async () => {
    const dir = tempDir()
    const runId = await savedRun(dir)
    const b = reopen(dir)
    try {
      const opened = await b.ok('runs.open', { runId, checkpointStep: 100 })
      expect(opened.runId).not.toBe(runId)
      expect(optimizerDeferred(b.session(opened.sessionId).trainer)).toBe(true)
      // The branch shares its parent's checkpoints up to the step (hard links here: no copy on disk).
      const ck = (id: string, step: number) => statSync(join(dir, id, 'checkpoints', `step-${step}.safetensors`))
      for (const step of [0, 100]) expect(ck(opened.runId, step).ino).toBe(ck(runId, step).ino)
      await b.ok('session.step', { sessionId: opened.sessionId, steps: 100 })
      await b.ok('session.dispose', { sessionId: opened.sessionId })
      const want = checkpointTensors(dir, runId, 200)
      const got = checkpointTensors(dir, opened.runId, 200)
      for (const k of Object.keys(want)) expect(got[k].data, k).toEqual(want[k].data)
    } finally {
      b.host.dispose()
    }
  }, 60_000)

  it('an opened run that is reset, or closed untrained, lets go of the file without reading the moments', async () => {
    const dir = tempDir()
    const runId = await savedRun(dir)
    const other = await savedRun(dir)
    const file = join(dir, other, 'checkpoints', 'step-200.safetensors')
    const { optim } = layout(file)
    const b = reopen(dir)
    try {
      const first = await b.ok('runs.open', { runId })
      expect(b.open('.safetensors')).toEqual([join(dir, runId, 'checkpoints', 'step-300.safetensors')])
      await b.ok('session.reset', { sessionId: first.sessionId })
      expect(b.open('.safetensors')).toEqual([])
      expect(optimizerDeferred(b.session(first.sessionId).trainer)).toBe(false)
      await b.ok('session.dispose', { sessionId: first.sessionId })

      const again = await b.ok('runs.open', { runId: other, checkpointStep: 200 })
      expect(b.open('.safetensors')).toEqual([file])
      await b.ok('session.dispose', { sessionId: again.sessionId })
      expect(b.open('.safetensors')).toEqual([])
      for (const t of optim) expect(b.reads.some((r) => r.path === file && overlaps(r, t))).toBe(false)
    } finally {
      b.host.dispose()
    }
  }, 60_000)
})

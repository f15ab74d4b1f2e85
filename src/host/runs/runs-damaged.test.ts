// Damaged files on disk: a run whose run.json is cut short is listed as damaged (with the file
// and the reason) instead of vanishing; a log that cannot be read never stops the host from
// starting; a torn latest checkpoint makes runs.open fall back to the previous good one (and
// say so); a checkpoint description with a field missing is refused by name, not with a TypeError.
import { mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { okReply, parseReply } from '../../shared/protocol'
import { spec } from '../test-helpers'
import { cleanupAfterEach, make, tempDir } from './test-helpers'

cleanupAfterEach()

/** A saved run trained `steps` steps with a checkpoint every 100; its id. */
async function trained(dir: string, steps: number): Promise<string> {
  const h = make(dir)
  const info = await h.ok('session.create', spec())
  await h.ok('session.step', { sessionId: info.state.sessionId, steps })
  await h.ok('session.dispose', { sessionId: info.state.sessionId })
  h.host.dispose()
  return info.runId!
}

describe('damaged runs', () => {
  it('a truncated run.json is listed as damaged with the reason; the other runs are unharmed', async () => {
    const dir = tempDir()
    const good = await trained(dir, 10)
    const bad = await trained(dir, 10)
    const file = join(dir, bad, 'run.json')
    truncateSync(file, 40)
    const { ok } = make(dir)
    const listed = await ok('runs.list', {})
    expect(parseReply('runs.list', okReply(1, listed)).ok).toBe(true)
    expect(listed.total).toBe(2)
    const damaged = listed.runs.find((r) => r.runId === bad)!
    expect(damaged).toMatchObject({ status: 'damaged', damaged: { reason: expect.stringContaining(file) } })
    expect(damaged.damaged!.reason).toMatch(/not valid JSON.*cut short/)
    expect(listed.runs.find((r) => r.runId === good)).toMatchObject({ status: 'saved', steps: 10 })
  })

  it('a run whose log cannot be read does not stop the host: it is listed as damaged, new runs are saved', async () => {
    const dir = tempDir()
    const good = await trained(dir, 10)
    // A live run (its process died) whose metrics.ndjson cannot be read as a file.
    const h0 = make(dir)
    const info = await h0.ok('session.create', spec())
    await h0.ok('session.step', { sessionId: info.state.sessionId, steps: 5 })
    const rec = JSON.parse(readFileSync(join(dir, info.runId!, 'run.json'), 'utf8'))
    h0.host.dispose()
    writeFileSync(join(dir, info.runId!, 'run.json'), JSON.stringify({ ...rec, status: 'live' }))
    rmSync(join(dir, info.runId!, 'metrics.ndjson'))
    mkdirSync(join(dir, info.runId!, 'metrics.ndjson')) // EISDIR on read
    const { ok } = make(dir)
    const listed = await ok('runs.list', {})
    expect(listed.storage).toEqual({ dir, writable: true })
    expect(listed.runs.find((r) => r.runId === info.runId)).toMatchObject({
      status: 'damaged',
      damaged: { reason: expect.stringMatching(/could not be recovered.*EISDIR/) },
    })
    expect(listed.runs.find((r) => r.runId === good)).toMatchObject({ status: 'saved' })
    expect((await ok('session.create', spec())).runId).toMatch(/^r/)
  })

  it('a torn latest checkpoint: runs.open resumes from the previous good one and says so', async () => {
    const dir = tempDir()
    const runId = await trained(dir, 250) // checkpoints 0, 100, 200, 250
    const latest = join(dir, runId, 'checkpoints', 'step-250.safetensors')
    truncateSync(latest, 20)
    const { ok } = make(dir)
    const opened = await ok('runs.open', { runId })
    expect(parseReply('runs.open', okReply(1, opened)).ok).toBe(true)
    expect(opened).toMatchObject({
      runId,
      step: 200,
      notice: expect.stringMatching(/step 250 could not be read.*previous good one, at step 200/),
    })
    // The same run continues (no branch); the torn files are set aside, not deleted.
    const [run] = (await ok('runs.list', {})).runs
    expect(run).toMatchObject({ runId, status: 'live', checkpoints: [0, 100, 200] })
    expect(readFileSync(join(dir, runId, 'checkpoints', 'damaged-step-250.safetensors')).length).toBe(20)
    await ok('session.step', { sessionId: opened.sessionId, steps: 10 })
    const m = await ok('runs.metrics', { runId, maxPoints: 20_000 })
    expect(m.steps.at(-1)).toBe(210)
    expect(m.steps.every((s, i) => i === 0 || s > m.steps[i - 1]!)).toBe(true)
  })

  it('a checkpoint description with a missing field: a clear error naming the file and the field', async () => {
    const dir = tempDir()
    const runId = await trained(dir, 100)
    const meta = join(dir, runId, 'checkpoints', 'step-100.json')
    const { optimizer: _, ...rest } = JSON.parse(readFileSync(meta, 'utf8'))
    writeFileSync(meta, JSON.stringify(rest))
    const { ok, fail } = make(dir)
    const err = await fail('runs.open', { runId, checkpointStep: 100 })
    expect(err.message).toContain(meta)
    expect(err.message).toMatch(/the field "optimizer" is missing/)
    expect(err.message).not.toMatch(/reading 'optimizer'/)
    // Without a step asked for, the previous good checkpoint opens instead.
    expect(await ok('runs.open', { runId })).toMatchObject({ step: 0, notice: expect.stringContaining('"optimizer" is missing') })
  })
})

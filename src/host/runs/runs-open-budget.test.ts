// runs.open sizes a checkpoint from its safetensors header before reading it: one bigger than the
// host's budget per session is refused with a 'limit' error that names the checkpoint, its size and
// the budget, nothing is read whole or built, and the files stay as they were (a checkpoint too big
// is not a damaged one: no fallback to an older step, nothing set aside).
import { readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { spec, testHost } from '../test-helpers'
import { checkpointBytes } from './checkpoint-files'
import { cleanupAfterEach, make, tempDir } from './test-helpers'

cleanupAfterEach()

const KiB = 1024
const GiB = 1024 ** 3

/** A safetensors file with only its header: it declares `bytes` of F32 data it does not hold. */
function headerOnly(path: string, bytes: number): void {
  const json = JSON.stringify({ 'layers.0.weight': { dtype: 'F32', shape: [bytes / 4], data_offsets: [0, bytes] } })
  const header = Buffer.from(json.padEnd(Math.ceil(json.length / 8) * 8, ' '))
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(header.length))
  writeFileSync(path, Buffer.concat([len, header]))
}

async function savedRun(dir: string, hidden: number[]) {
  const h = make(dir, 20)
  const created = await h.ok('session.create', spec({ model: { hidden }, optimizer: { type: 'adam', lr: 0.01 } }))
  await h.ok('session.step', { sessionId: created.state.sessionId, steps: 40 })
  await h.ok('session.dispose', { sessionId: created.state.sessionId })
  return created.runId!
}

describe('a checkpoint too big for a session', () => {
  it('is refused from its size before it is read, naming the file, its size and the budget', async () => {
    const dir = tempDir()
    const runId = await savedRun(dir, [128, 128])
    const ckpt = join(dir, runId, 'checkpoints', 'step-40.safetensors')
    const size = statSync(ckpt).size
    expect(checkpointBytes(ckpt)).toBe(size)
    const budget = Math.floor(size / 2)
    const h = testHost({ dataDir: dir, memoryBudget: { perSession: budget } })
    try {
      const err = await h.fail('runs.open', { runId })
      expect(err.code).toBe('limit')
      expect(err.message).toContain(`run ${runId}, step 40: the checkpoint's tensors take ${Math.ceil(size / KiB)} KiB`)
      expect(err.message).toContain(`over this host's ${Math.ceil(budget / KiB)} KiB budget per session; it was not read`)
      // An explicit earlier step is refused the same way (a branch).
      expect((await h.fail('runs.open', { runId, checkpointStep: 20 })).code).toBe('limit')
      // Nothing was opened or set aside.
      const listed = await h.ok('runs.list', {})
      expect(listed.runs.map((r) => [r.runId, r.sessionId, r.checkpoints])).toEqual([[runId, null, [0, 20, 40]]])
      expect(readdirSync(join(dir, runId, 'checkpoints')).filter((n) => n.startsWith('damaged'))).toEqual([])
    } finally {
      h.host.dispose()
    }
  })

  it('the header counts, not just the file: a checkpoint declaring 3 GiB is refused, not read or skipped as damaged', async () => {
    const dir = tempDir()
    const runId = await savedRun(dir, [4])
    headerOnly(join(dir, runId, 'checkpoints', 'step-40.safetensors'), 3 * GiB)
    const h = testHost({ dataDir: dir, memoryBudget: { perSession: GiB } })
    try {
      const err = await h.fail('runs.open', { runId })
      expect(err.code).toBe('limit')
      expect(err.message).toMatch(
        /step 40: the checkpoint's tensors take 3\.0 GiB .* 2\.0 GiB over this host's 1\.0 GiB budget per session/,
      )
      expect(readdirSync(join(dir, runId, 'checkpoints')).filter((n) => n.startsWith('damaged'))).toEqual([])
    } finally {
      h.host.dispose()
    }
  })
})

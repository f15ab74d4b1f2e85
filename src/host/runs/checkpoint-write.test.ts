import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { nodeFs, type FsOps } from './atomic'
import { CheckpointWrite, PIECE_BYTES, WRITE_BYTES, WRITE_TURN_MS, type GuardAsync } from './checkpoint-write'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

function setup(): { paths: { tensors: string; meta: string }; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ckw-'))
  dirs.push(dir)
  return { dir, paths: { tensors: join(dir, 'step-1.safetensors'), meta: join(dir, 'step-1.json') } }
}

/** The store's guard: an fs error is recorded (here: kept) and gives null. */
function guard(errors: unknown[]): GuardAsync {
  return async (_what, fn) => {
    try {
      return await fn()
    } catch (e) {
      errors.push(e)
      return null
    }
  }
}

/** Parts bigger than one piece, so the write takes several turns of the event loop. */
function parts(): Uint8Array[] {
  const a = new Uint8Array(PIECE_BYTES + 1234).map((_, i) => i & 0xff)
  const b = new Uint8Array(2 * PIECE_BYTES).map((_, i) => (i * 7) & 0xff)
  return [Uint8Array.of(1, 2, 3), a, b]
}

const joined = (ps: Uint8Array[]): Buffer => Buffer.concat(ps.map((p) => Buffer.from(p)))

describe('CheckpointWrite', { timeout: 30_000 }, () => {
  it('writes the parts over several turns, then the JSON that makes the checkpoint count', async () => {
    const { paths, dir } = setup()
    const ps = parts()
    const expected = joined(ps)
    const job = new CheckpointWrite(ps, paths, { step: 1 }, nodeFs, guard([]))
    expect(job.written).toBe(false) // one piece at most before the first turn
    expect(await job.done).toBe(true)
    expect(readFileSync(paths.tensors).equals(expected)).toBe(true)
    expect(JSON.parse(readFileSync(paths.meta, 'utf8'))).toEqual({ step: 1 })
    expect(readdirSync(dir).sort()).toEqual(['step-1.json', 'step-1.safetensors'])
  })

  it('finishNow writes the rest at once, so later changes to the tensors are not saved', async () => {
    const { paths } = setup()
    const ps = parts()
    const expected = joined(ps)
    const job = new CheckpointWrite(ps, paths, { step: 1 }, nodeFs, guard([]))
    job.finishNow()
    expect(job.written).toBe(true)
    ps[2].fill(0) // the next step changes the weights
    expect(await job.done).toBe(true)
    expect(readFileSync(paths.tensors).equals(expected)).toBe(true)
  })

  it('a turn writes 1 MiB at a time: up to PIECE_BYTES on a fast disk, one write once WRITE_TURN_MS has passed', async () => {
    for (const msPerWrite of [0, WRITE_TURN_MS + 1]) {
      const { paths } = setup()
      const ps = parts()
      let now = 0
      const writes: number[] = []
      const timed: FsOps = {
        ...nodeFs,
        writeSync: (fd, data, offset, length) => {
          now += msPerWrite
          writes.push(length)
          return nodeFs.writeSync(fd, data, offset, length)
        },
      }
      const job = new CheckpointWrite(ps, paths, { step: 1 }, timed, guard([]), () => now)
      // Before the first turn: the first turn's writes (the 3-byte part ends the first write early).
      const first = writes.reduce((a, b) => a + b, 0)
      expect(first).toBe(msPerWrite === 0 ? PIECE_BYTES : WRITE_BYTES)
      expect(await job.done).toBe(true)
      expect(Math.max(...writes)).toBeLessThanOrEqual(WRITE_BYTES)
      expect(readFileSync(paths.tensors).equals(joined(ps))).toBe(true)
    }
  })

  it('a failing disk leaves no file behind and reports false', async () => {
    const { paths, dir } = setup()
    const errors: unknown[] = []
    let writes = 0
    const full: FsOps = {
      ...nodeFs,
      writeSync: (fd, data, offset, length) => {
        if (++writes > 1) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })
        return nodeFs.writeSync(fd, data, offset, length)
      },
    }
    const job = new CheckpointWrite(parts(), paths, { step: 1 }, full, guard(errors))
    expect(await job.done).toBe(false)
    expect(errors).toHaveLength(1)
    expect(readdirSync(dir)).toEqual([])
  })
})

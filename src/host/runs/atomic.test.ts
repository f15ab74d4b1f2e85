// What makes a run file crash-safe, asserted on real files: the new content arrives by a rename
// (a new inode, never an in-place rewrite), the file is flushed before the rename and the folder
// after it, and a write that fails halfway leaves the old content and no temporary file. Each of
// these passed unnoticed when broken before (issue 17: in-place writes, a dropped fsync).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { describeFsError, nodeFs, writeFileAtomic, type FsOps } from './atomic'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'bps-atomic-'))
  dirs.push(d)
  return d
}

/** node:fs, with every call written down as "<op> <which file>". */
function recording(dir: string, target: string): { ops: FsOps; calls: string[] } {
  const calls: string[] = []
  const fdName = new Map<number, string>()
  const name = (p: string) => (p === dir ? 'dir' : p === target ? 'target' : p.includes('.tmp-') ? 'tmp' : p)
  const ops: FsOps = {
    ...nodeFs,
    openSync: (p, flags, mode) => {
      const fd = nodeFs.openSync(p, flags, mode)
      fdName.set(fd, name(p))
      calls.push(`open ${name(p)}`)
      return fd
    },
    writeSync: (fd, data, off, len) => {
      calls.push(`write ${fdName.get(fd)}`)
      return nodeFs.writeSync(fd, data, off, len)
    },
    fsyncSync: (fd) => {
      calls.push(`fsync ${fdName.get(fd)}`)
      nodeFs.fsyncSync(fd)
    },
    closeSync: (fd) => {
      calls.push(`close ${fdName.get(fd)}`)
      nodeFs.closeSync(fd)
    },
    renameSync: (a, b) => {
      calls.push(`rename ${name(a)}→${name(b)}`)
      nodeFs.renameSync(a, b)
    },
  }
  return { ops, calls }
}

describe('writeFileAtomic', () => {
  it('replaces the file by a rename: the target gets a new inode, the old one is never rewritten', () => {
    const d = tempDir()
    const f = join(d, 'run.json')
    writeFileAtomic(f, 'one')
    const before = statSync(f).ino
    writeFileAtomic(f, 'two')
    expect(readFileSync(f, 'utf8')).toBe('two')
    // An in-place write (open 'w' on the target) keeps the inode; temp + rename cannot.
    expect(statSync(f).ino).not.toBe(before)
    expect(readdirSync(d)).toEqual(['run.json'])
  })

  it('flushes the file before the rename and the folder after it', () => {
    const d = tempDir()
    const f = join(d, 'run.json')
    writeFileAtomic(f, 'old')
    const { ops, calls } = recording(d, f)
    writeFileAtomic(f, 'new content', ops)
    expect(calls).toEqual(['open tmp', 'write tmp', 'fsync tmp', 'close tmp', 'rename tmp→target', 'open dir', 'fsync dir', 'close dir'])
  })

  it('a write failing halfway (disk full) leaves the old content and no temporary file', () => {
    const d = tempDir()
    const f = join(d, 'checkpoint.json')
    writeFileAtomic(f, 'the old content')
    let writes = 0
    const full: FsOps = {
      ...nodeFs,
      // The first write lands (half the data), the second finds the disk full.
      writeSync: (fd, data, off, len) => {
        if (writes++ === 0) return nodeFs.writeSync(fd, data, off, Math.ceil(len / 2))
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
      },
    }
    expect(() => writeFileAtomic(f, 'x'.repeat(10_000), full)).toThrow(/ENOSPC/)
    expect(writes).toBe(2)
    expect(readFileSync(f, 'utf8')).toBe('the old content')
    expect(readdirSync(d)).toEqual(['checkpoint.json'])
  })

  it('a failed rename removes the temporary file too', () => {
    const d = tempDir()
    const f = join(d, 'run.json')
    writeFileAtomic(f, 'kept')
    const ops: FsOps = {
      ...nodeFs,
      renameSync: () => {
        throw Object.assign(new Error('EIO: i/o error, rename'), { code: 'EIO' })
      },
    }
    expect(() => writeFileAtomic(f, 'lost', ops)).toThrow(/EIO/)
    expect(readFileSync(f, 'utf8')).toBe('kept')
    expect(readdirSync(d)).toEqual(['run.json'])
  })
})

describe('filesystem errors in words', () => {
  const err = (code: string, message: string) => Object.assign(new Error(message), { code })
  it('says what a full disk or a read-only directory means, naming the code once', () => {
    const d = tempDir()
    expect(describeFsError(err('ENOSPC', 'ENOSPC: no space left on device, write'), d)).toBe('the disk is full (ENOSPC)')
    expect(describeFsError(err('EROFS', 'EROFS: read-only file system, open'), d)).toBe('the data directory is read-only (EROFS)')
    expect(describeFsError(err('EACCES', 'EACCES: permission denied, mkdir'), d)).toBe('the data directory is read-only (EACCES)')
    expect(describeFsError(err('ENOENT', 'ENOENT: no such file'), join(d, 'gone'))).toBe('the data directory does not exist (ENOENT)')
    expect(describeFsError(err('EIO', 'EIO: i/o error, read'), d)).toBe('i/o error, read (EIO)')
  })
})

// Crash-safe file writes for the run store: a file is written whole under a temporary name,
// flushed to disk, renamed over the target, and the directory entry flushed too, so after a
// crash (kill -9, power loss) a reader finds either the old file or the new one, never half.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

/** Temporary files start with this; readers ignore them and startup removes leftovers. */
export const TMP_PREFIX = '.tmp-'

function writeAll(fd: number, data: Uint8Array): void {
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off)
}

export function fsyncDir(dir: string): void {
  let fd: number | null = null
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch (e) {
    // Some filesystems refuse fsync on a directory (EINVAL/EISDIR); the rename is still atomic.
    const code = (e as NodeJS.ErrnoException).code
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw e
  } finally {
    if (fd !== null) closeSync(fd)
  }
}

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data
  const dir = dirname(path)
  const tmp = join(dir, `${TMP_PREFIX}${basename(path)}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`)
  const fd = openSync(tmp, 'w', 0o600)
  try {
    writeAll(fd, bytes)
    fsyncSync(fd)
  } catch (e) {
    closeSync(fd)
    rmSync(tmp, { force: true })
    throw e
  }
  closeSync(fd)
  try {
    renameSync(tmp, path)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw e
  }
  fsyncDir(dir)
}

/** Append bytes to an open file descriptor (the metrics log). */
export function appendAll(fd: number, text: string): void {
  writeAll(fd, new TextEncoder().encode(text))
}

/** An error from the filesystem (EACCES, ENOSPC, EROFS, ENOTDIR...), as opposed to a bug. */
export function isFsError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test((e as NodeJS.ErrnoException).code!)
}

// Crash-safe file writes for the run store: a file is written whole under a temporary name,
// flushed to disk, renamed over the target, and the directory entry flushed too, so after a
// crash (kill -9, power loss) a reader finds either the old file or the new one, never half.
// The filesystem calls go through an `FsOps` object (node:fs by default) so tests can record
// their order and inject failures (a full disk) while still writing real files.
import * as fs from 'node:fs'
import { basename, dirname, join } from 'node:path'

/** Temporary files start with this; readers ignore them and startup removes leftovers. */
export const TMP_PREFIX = '.tmp-'

/** The filesystem calls the run store writes through. */
export interface FsOps {
  openSync(path: string, flags: string, mode?: number): number
  writeSync(fd: number, data: Uint8Array, offset: number, length: number): number
  /** Read into `data` from the file's byte `position` (checkpoints are read in parts: checkpoint-read.ts). */
  readSync(fd: number, data: Uint8Array, offset: number, length: number, position: number): number
  fsyncSync(fd: number): void
  /** The same flush off the thread (libuv's pool): a big file's flush must not block the engine host. */
  fsync(fd: number): Promise<void>
  closeSync(fd: number): void
  renameSync(from: string, to: string): void
  rmSync(path: string, options: { force?: boolean; recursive?: boolean }): void
  mkdirSync(path: string, options: { recursive: true }): void
  /** A second name for a file (a branch shares its parent's checkpoints: linkOrCopyAtomic). */
  linkSync(existing: string, newPath: string): void
}

export const nodeFs: FsOps = {
  openSync: (p, flags, mode) => fs.openSync(p, flags, mode),
  writeSync: (fd, data, offset, length) => fs.writeSync(fd, data, offset, length),
  readSync: (fd, data, offset, length, position) => fs.readSync(fd, data, offset, length, position),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  fsync: (fd) => new Promise<void>((resolve, reject) => fs.fsync(fd, (e) => (e ? reject(e) : resolve()))),
  closeSync: (fd) => fs.closeSync(fd),
  renameSync: (from, to) => fs.renameSync(from, to),
  rmSync: (p, options) => fs.rmSync(p, options),
  mkdirSync: (p, options) => void fs.mkdirSync(p, options),
  linkSync: (existing, newPath) => fs.linkSync(existing, newPath),
}

export function writeAll(fd: number, data: Uint8Array, ops: FsOps): void {
  for (let off = 0; off < data.length;) off += ops.writeSync(fd, data, off, data.length - off)
}

export function fsyncDir(dir: string, ops: FsOps = nodeFs): void {
  let fd: number | null = null
  try {
    fd = ops.openSync(dir, 'r')
    ops.fsyncSync(fd)
  } catch (e) {
    // Some filesystems refuse fsync on a directory (EINVAL/EISDIR); the rename is still atomic.
    const code = (e as NodeJS.ErrnoException).code
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw e
  } finally {
    if (fd !== null) ops.closeSync(fd)
  }
}

/** A temporary name next to `path` (same folder, so the rename stays on one filesystem). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `${TMP_PREFIX}${basename(path)}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`)
}

export function writeFileAtomic(path: string, data: Uint8Array | string, ops: FsOps = nodeFs): void {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data
  const dir = dirname(path)
  const tmp = tempPathFor(path)
  const fd = ops.openSync(tmp, 'w', 0o600)
  try {
    writeAll(fd, bytes, ops)
    ops.fsyncSync(fd)
  } catch (e) {
    ops.closeSync(fd)
    ops.rmSync(tmp, { force: true })
    throw e
  }
  ops.closeSync(fd)
  try {
    ops.renameSync(tmp, path)
  } catch (e) {
    ops.rmSync(tmp, { force: true })
    throw e
  }
  fsyncDir(dir, ops)
}

/** Errors of a filesystem (or a pair of folders) that cannot hard-link: the file is copied instead. */
const NO_LINK = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS', 'EACCES'])

/**
 * `to` becomes the same file as `from`, atomically: a hard link (instant, no second copy on disk)
 * where the filesystem has them, else a copy. Only for files never changed in place once written
 * (checkpoints: every write replaces a file by renaming a new one over it).
 */
export function linkOrCopyAtomic(from: string, to: string, ops: FsOps = nodeFs): void {
  const tmp = tempPathFor(to)
  try {
    ops.linkSync(from, tmp)
  } catch (e) {
    if (!isFsError(e) || !NO_LINK.has(e.code ?? '')) throw e
    return writeFileAtomic(to, fs.readFileSync(from), ops)
  }
  try {
    ops.renameSync(tmp, to)
  } catch (e) {
    ops.rmSync(tmp, { force: true })
    throw e
  }
  fsyncDir(dirname(to), ops)
}

/** Append bytes to an open file descriptor (the metrics log). */
export function appendAll(fd: number, text: string, ops: FsOps = nodeFs): void {
  writeAll(fd, new TextEncoder().encode(text), ops)
}

/** An error from the filesystem (EACCES, ENOSPC, EROFS, ENOTDIR...), as opposed to a bug. */
export function isFsError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test((e as NodeJS.ErrnoException).code!)
}

/** Whether `dir` is a directory this process can write into (false on a read-only mount). */
function writableDir(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK)
    return true
  } catch {
    return false
  }
}

/**
 * What a filesystem failure means, in words, with its code once: "the disk is full (ENOSPC)".
 * Node's own message repeats the code ("ENOSPC: no space left on device, open '…'"), so it is
 * used only for codes without a phrase, stripped of that prefix.
 */
export function describeFsError(e: NodeJS.ErrnoException, dir: string): string {
  const code = e.code ?? 'EIO'
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `the disk is full (${code})`
    case 'EROFS':
    case 'EACCES':
    case 'EPERM':
      return `the data directory is read-only (${code})`
    case 'ENOENT':
      // A read-only parent makes folders fail to appear: say what the user can fix.
      if (fs.existsSync(dir) && !writableDir(dir)) return 'the data directory is read-only (ENOENT on a directory that cannot be written)'
      return fs.existsSync(dir)
        ? `a file or folder in the data directory disappeared (ENOENT)`
        : `the data directory does not exist (ENOENT)`
    case 'ENOTDIR':
      return `a path in the data directory is a file, not a folder (ENOTDIR)`
    default: {
      const detail = (e.message ?? '').replace(new RegExp(`^${code}:\\s*`), '')
      return `${detail || 'filesystem error'} (${code})`
    }
  }
}

// Command-line flags of `npm run serve`, parsed apart from the entry so they can be tested
// without spawning the engine worker.
import { randomBytes } from 'node:crypto'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { isLoopbackHost, TOKEN_PATTERN } from './serve-auth'

export interface ServeConfig {
  host: string
  /** True when --host was given: the only way to bind beyond loopback. */
  hostExplicit: boolean
  port: number
  token: string
  dataDir: string
  /** At most this many browser connections at once. */
  maxClients: number
  /** Per-session memory budget in bytes (--memory-budget); undefined: derived from the machine's memory. */
  memoryBudget?: number
  /** How long a closed page's sessions wait for it to come back (a reload), in ms (--resume-grace). */
  resumeGraceMs: number
  /** Newest checkpoints a run keeps as they are; older ones are log-spaced (--keep-checkpoints). */
  keepRecent?: number
  /** Printed to stderr before starting (e.g. non-loopback binding). */
  warnings: string[]
}

export const SERVE_USAGE = `Usage: npm run serve -- [--port N] [--host ADDR] [--data-dir DIR] [--token TOKEN]
  --port      port to listen on (default 0: any free port)
  --host      address to bind (default 127.0.0.1; anything else exposes the engine to the network)
  --data-dir  folder for runs (default ~/.backprop-studio/runs; created if missing)
  --token     access token (default: a new random one per launch; 16+ characters of A-Z a-z 0-9 - _)
  --max-clients  browser connections served at once (default 32; more are refused with the reason)
  --memory-budget  memory one session may need, e.g. 4GiB (default: an eighth of the machine's memory)
  --resume-grace  seconds a closed page's sessions wait for its reload (default 30; 0: released at once; a page that closed or reloads: at most 5)
  --keep-checkpoints  newest checkpoints a run keeps (default 5; older ones are kept log-spaced)`

/** Parse argv (without node and script). Throws an Error whose message is fit to print. */
export function parseServeArgs(argv: string[]): ServeConfig {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      token: { type: 'string' },
      'max-clients': { type: 'string' },
      'memory-budget': { type: 'string' },
      'resume-grace': { type: 'string' },
      'keep-checkpoints': { type: 'string' },
    },
  })
  const port = values.port === undefined ? 0 : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535 || (values.port ?? '0').trim() === '') {
    throw new Error(`--port must be an integer from 0 to 65535, got "${values.port}"`)
  }
  const host = values.host ?? '127.0.0.1'
  if (host.trim() === '') throw new Error('--host must not be empty')
  const token = values.token ?? randomBytes(32).toString('hex')
  if (!TOKEN_PATTERN.test(token)) throw new Error('--token must be 16 to 256 characters from A-Z, a-z, 0-9, "-" and "_"')
  const maxClients = values['max-clients'] === undefined ? 32 : Number(values['max-clients'])
  if (!Number.isInteger(maxClients) || maxClients < 1 || maxClients > 10_000 || values['max-clients']?.trim() === '') {
    throw new Error(`--max-clients must be an integer from 1 to 10000, got "${values['max-clients']}"`)
  }
  const grace = values['resume-grace'] === undefined ? 30 : Number(values['resume-grace'])
  if (!Number.isFinite(grace) || grace < 0 || grace > 3600 || values['resume-grace']?.trim() === '') {
    throw new Error(`--resume-grace must be a number of seconds from 0 to 3600, got "${values['resume-grace']}"`)
  }
  const keep = values['keep-checkpoints']
  if (keep !== undefined && (!/^\d{1,4}$/.test(keep.trim()) || Number(keep) > 1000))
    throw new Error(`--keep-checkpoints must be an integer from 0 to 1000, got "${keep}"`)
  const warnings: string[] = []
  if (!isLoopbackHost(host)) {
    warnings.push(
      `WARNING: binding ${host} makes the engine reachable from other machines, over plain HTTP. ` +
        'Anyone who sees the token can train models and use this machine. ' +
        'Prefer the default 127.0.0.1 with an SSH tunnel (ssh -L PORT:127.0.0.1:PORT host).',
    )
  }
  return {
    host,
    hostExplicit: values.host !== undefined,
    port,
    token,
    maxClients,
    resumeGraceMs: Math.round(grace * 1000),
    dataDir: resolve(values['data-dir'] ?? join(homedir(), '.backprop-studio', 'runs')),
    ...memoryBudgetFlag(values['memory-budget']),
    ...(keep === undefined ? {} : { keepRecent: Number(keep) }),
    warnings,
  }
}

/** --memory-budget SIZE (bytes, or with a unit: 512MiB, 4GiB, 1.5G). */
function memoryBudgetFlag(value: string | undefined): { memoryBudget?: number } {
  if (value === undefined) return {}
  const bytes = parseBytes(value)
  if (bytes === null || bytes < 64 * 1024 * 1024)
    throw new Error(`--memory-budget must be a size of at least 64MiB, such as 4GiB or 512MiB, got "${value}"`)
  return { memoryBudget: bytes }
}

/** Parses "4GiB", "512MiB", "2G", "1.5 GiB" or plain bytes; null when it is none of those. */
export function parseBytes(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)\s*$/i.exec(text)
  if (!m) return null
  const scale = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2].toLowerCase().charAt(0)] ?? 1
  const n = Math.floor(Number(m[1]) * scale)
  return n > 0 ? n : null
}

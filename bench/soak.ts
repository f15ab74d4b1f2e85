// `npm run soak`: a few minutes of load and faults against the real serve mode (out/main/serve.js),
// then a report: requests, errors by code, p50/p99 latency of a cheap request (host.hello) while
// everything else runs, peak RSS, and whether every run on disk is intact. Not part of `npm test`:
// it measures, it does not assert (the exit code is non-zero only when runs were lost or damaged).
//
// What runs at once: several WebSocket clients that create, train, step, reset and dispose
// sessions, upload CSV files and page the runs list, some closing their sockets abruptly; a prober
// timing host.hello every 100 ms; `kill -9` of the server at random moments (restarted on the same
// data directory); and, when run as root, a full disk: the data directory is a small tmpfs that a
// filler file fills for a while, then frees. It ends with a clean SIGTERM and checks every run.
//
//   npm run soak -- [--minutes 3] [--clients 6] [--kills 4] [--keep]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    clients: { type: 'string', default: '6' },
    kills: { type: 'string', default: '4' },
    keep: { type: 'boolean', default: false },
  },
})
const DURATION_MS = Number(args.minutes) * 60_000
const CLIENTS = Number(args.clients)
const KILLS = Number(args.kills)
const TOKEN = 'soak-token-0123456789abcdef'
const SERVE = 'out/main/serve.js'

if (!existsSync(SERVE)) {
  console.error(`soak: ${SERVE} is missing; run \`npm run build\` first (npm run soak does)`)
  process.exit(1)
}

// ---------------------------------------------------------------------------------------------
// The data directory: a 512 MiB tmpfs when we may mount one (a real full disk), else a temp folder.

const base = mkdtempSync(join(tmpdir(), 'bps-soak-'))
const dataDir = join(base, 'data')
mkdirSync(dataDir)
const tmpfs = process.getuid?.() === 0 && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512m', 'tmpfs', dataDir]).status === 0
const notes: string[] = []
if (!tmpfs) notes.push('full disk: skipped (mounting a tmpfs needs root); the data directory is a plain temp folder')

// ---------------------------------------------------------------------------------------------
// Tallies

let requests = 0
const errors = new Map<string, number>()
const helloMs: number[] = []
let peakRssKiB = 0
let kills = 0
let connectionsRefused = 0
const firstMessage = new Map<string, string>()
const countError = (code: string, message = ''): void => {
  errors.set(code, (errors.get(code) ?? 0) + 1)
  if (!firstMessage.has(code) && message) firstMessage.set(code, message.slice(0, 160))
}

// ---------------------------------------------------------------------------------------------
// The server process

let server: ChildProcess | null = null
let port = 0

async function startServer(): Promise<void> {
  const child = spawn(process.execPath, [SERVE, '--port', String(port), '--token', TOKEN, '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  server = child
  child.stderr?.on('data', () => undefined)
  port = await new Promise<number>((resolve, reject) => {
    let out = ''
    const onData = (d: Buffer): void => {
      out += d.toString()
      const m = /serving at http:\/\/127\.0\.0\.1:(\d+)\//.exec(out)
      if (m) {
        child.stdout?.off('data', onData)
        resolve(Number(m[1]))
      }
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening: ${out}`)))
  })
}

function sampleRss(): void {
  const pid = server?.pid
  if (pid === undefined) return
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    if (m) peakRssKiB = Math.max(peakRssKiB, Number(m[1]))
  } catch {
    // The process is between a kill and its restart.
  }
}

async function killAndRestart(): Promise<void> {
  const s = server
  if (!s) return
  const exited = new Promise<void>((resolve) => s.once('exit', () => resolve()))
  s.kill('SIGKILL')
  kills++
  await exited
  await startServer()
}

// ---------------------------------------------------------------------------------------------
// A protocol client over one WebSocket

type Reply = { ok: boolean; result?: unknown; error?: { code: string; message?: string } }

class Client {
  private ws: WebSocket | null = null
  private nextId = 1
  private readonly waiting = new Map<number, (reply: Reply) => void>()

  async connect(): Promise<boolean> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${TOKEN}`, { headers: { Origin: `http://127.0.0.1:${port}` } })
    const opened = await new Promise<boolean>((resolve) => {
      ws.once('open', () => resolve(true))
      ws.once('error', () => resolve(false))
      ws.once('unexpected-response', () => resolve(false))
    })
    if (!opened) {
      connectionsRefused++
      return false
    }
    this.ws = ws
    ws.on('message', (data) => {
      let msg: { id?: number; ok?: boolean }
      try {
        msg = JSON.parse(data.toString()) as { id?: number; ok?: boolean }
      } catch {
        return
      }
      if (typeof msg.id === 'number' && typeof msg.ok === 'boolean') {
        this.waiting.get(msg.id)?.(msg as never)
        this.waiting.delete(msg.id)
      }
    })
    ws.on('close', () => this.failAll())
    ws.on('error', () => undefined)
    return true
  }

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN
  }

  /** One request; resolves with the reply (a lost connection counts as error 'disconnected'). */
  request(kind: string, payload: unknown, timeoutMs = 60_000): Promise<Reply> {
    requests++
    const ws = this.ws
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      countError('disconnected')
      return Promise.resolve({ ok: false, error: { code: 'disconnected' } })
    }
    const id = this.nextId++
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id)
        countError('timeout')
        resolve({ ok: false, error: { code: 'timeout' } })
      }, timeoutMs)
      this.waiting.set(id, (reply) => {
        clearTimeout(timer)
        if (!reply.ok) countError(reply.error?.code ?? 'unknown', `${kind}: ${reply.error?.message ?? ''}`)
        resolve(reply)
      })
      ws.send(JSON.stringify({ v: 1, id, kind, payload }))
    })
  }

  close(): void {
    this.ws?.terminate()
    this.ws = null
    this.failAll()
  }

  private failAll(): void {
    for (const [id, done] of this.waiting) {
      countError('disconnected')
      done({ ok: false, error: { code: 'disconnected' } })
      this.waiting.delete(id)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Workloads

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]
const deadline = Date.now() + DURATION_MS
const running = (): boolean => Date.now() < deadline

function sessionSpec(i: number): unknown {
  const heavy = i % 5 === 4
  return {
    model: { hidden: heavy ? [256, 256, 256] : [16, 16] },
    data: { generator: pick(['spiral', 'xor', 'circle', 'gauss'] as const), n: heavy ? 2000 : 400, seed: i },
    optimizer: { type: pick(['sgd', 'adam'] as const), lr: 0.01 },
    train: { batchSize: heavy ? 512 : 32, evalEvery: heavy ? 5 : 50, seed: i },
    backend: 'cpu',
  }
}

function csvFile(rows: number): Buffer {
  const lines = ['a,b,c,label']
  for (let r = 0; r < rows; r++) lines.push(`${Math.random()},${Math.random()},${Math.random()},${r % 3}`)
  return Buffer.from(`${lines.join('\n')}\n`)
}

async function upload(c: Client, n: number): Promise<void> {
  const bytes = csvFile(200 + Math.floor(Math.random() * 2000))
  const chunk = 64 * 1024
  const total = Math.ceil(bytes.length / chunk)
  const uploadId = `u${Date.now().toString(36)}${n}`
  // Some uploads are abandoned half way (the client moves on or leaves).
  const stopAt = Math.random() < 0.3 ? Math.max(1, total - 1) : total
  for (let index = 0; index < stopAt; index++) {
    const r = await c.request('files.upload', {
      uploadId,
      name: `soak-${n}.csv`,
      index,
      total,
      bytes: bytes.length,
      chunkBase64: bytes.subarray(index * chunk, (index + 1) * chunk).toString('base64'),
    })
    if (!r.ok) return
  }
}

async function clientLoop(i: number): Promise<void> {
  let n = 0
  while (running()) {
    const c = new Client()
    if (!(await c.connect())) {
      await sleep(500)
      continue
    }
    const created = await c.request('session.create', sessionSpec(i * 1000 + n))
    const sessionId = created.ok ? (created.result as { state: { sessionId: string } }).state.sessionId : null
    if (sessionId) await c.request('session.start', { sessionId })
    const until = Date.now() + 5_000 + Math.random() * 15_000
    while (running() && c.open && Date.now() < until) {
      const r = Math.random()
      if (sessionId && r < 0.25) await c.request('session.info', { sessionId })
      else if (sessionId && r < 0.35) await c.request('session.pause', { sessionId })
      else if (sessionId && r < 0.5) await c.request('session.start', { sessionId })
      else if (sessionId && r < 0.55) await c.request('session.step', { sessionId, steps: 5 })
      else if (sessionId && r < 0.6) await c.request('session.reset', { sessionId })
      else if (r < 0.7) await c.request('runs.list', {})
      else if (r < 0.78) await upload(c, n++)
      else if (sessionId && r < 0.85) await c.request('session.histograms', { sessionId, bins: 30 })
      await sleep(100 + Math.random() * 400)
    }
    // Half the clients dispose politely; the others just vanish (a closed tab).
    if (sessionId && Math.random() < 0.5) await c.request('session.dispose', { sessionId })
    c.close()
    n++
  }
}

async function prober(): Promise<void> {
  let c = new Client()
  while (running()) {
    if (!c.open && !(await c.connect())) {
      await sleep(200)
      c = new Client()
      continue
    }
    const t0 = performance.now()
    const r = await c.request('host.hello', {}, 30_000)
    if (r.ok) helloMs.push(performance.now() - t0)
    await sleep(100)
  }
  c.close()
}

async function faults(): Promise<void> {
  const slots = KILLS + (tmpfs ? 1 : 0)
  const fullAt = tmpfs ? Math.floor(Math.random() * slots) : -1
  for (let k = 0; k < slots && running(); k++) {
    const wait = (deadline - Date.now()) / (slots - k + 1)
    await sleep(wait * (0.5 + Math.random()))
    if (!running()) break
    if (k === fullAt) await fullDisk()
    else await killAndRestart()
  }
}

/** Fill the tmpfs, keep training on a full disk for a while, free it, and see that runs resume. */
async function fullDisk(): Promise<void> {
  const filler = join(dataDir, 'filler.bin')
  const block = Buffer.alloc(1024 * 1024)
  let written = 0
  try {
    for (;;) {
      writeFileSync(filler, block, { flag: 'a' })
      written++
    }
  } catch {
    // ENOSPC: the disk is full.
  }
  notes.push(`full disk: filled the 512 MiB tmpfs (${written} MiB of filler) for 15 s`)
  await sleep(15_000)
  rmSync(filler, { force: true })
  await sleep(3_000)
  const c = new Client()
  if (await c.connect()) {
    const r = await c.request('session.create', sessionSpec(999_999))
    const state = r.ok ? (r.result as { state: { sessionId: string }; runId?: string | null }) : null
    notes.push(
      `full disk: after freeing it a new session ${state ? (state.runId ? `records again (run ${state.runId})` : 'has no run (runId null)') : `could not be created (${r.error?.code})`}`,
    )
    if (state) await c.request('session.dispose', { sessionId: state.state.sessionId })
    c.close()
  }
}

// ---------------------------------------------------------------------------------------------
// After the load: a clean stop, then every run must open.

interface RunCheck {
  total: number
  intact: number
  /** Still `live` after a restart: recovery should have marked every orphan `interrupted`. */
  live: number
  damaged: string[]
}

/** Restart on the same data directory and open every run the store lists (all pages). */
async function checkRuns(): Promise<RunCheck> {
  const out: RunCheck = { total: 0, intact: 0, live: 0, damaged: [] }
  await startServer()
  const c = new Client()
  if (!(await c.connect())) throw new Error('soak: could not connect to the restarted server to check runs')
  const runs: { runId: string; status: string; damaged?: { reason: string } }[] = []
  let cursor: string | null | undefined
  do {
    const r = await c.request('runs.list', cursor ? { limit: 1000, cursor } : { limit: 1000 })
    if (!r.ok) throw new Error(`soak: runs.list failed after the restart: ${r.error?.code} ${r.error?.message ?? ''}`)
    const page = r.result as { runs: typeof runs; nextCursor: string | null }
    runs.push(...page.runs)
    cursor = page.nextCursor
  } while (cursor)
  for (const run of runs) {
    out.total++
    if (run.status === 'live') out.live++
    if (run.status === 'damaged') {
      out.damaged.push(`${run.runId}: ${run.damaged?.reason ?? 'damaged'}`)
      continue
    }
    const r = await c.request('runs.open', { runId: run.runId })
    if (r.ok) {
      out.intact++
      await c.request('session.dispose', { sessionId: (r.result as { sessionId: string }).sessionId })
    } else out.damaged.push(`${run.runId}: runs.open → ${r.error?.code}: ${r.error?.message ?? ''}`)
  }
  c.close()
  return out
}

/** The newest checkpoint's step equals the last step in the metrics log (nothing trained unsaved). */
function lastCheckpointIsLastStep(runId: string): boolean {
  const dir = join(dataDir, runId)
  try {
    const steps = readdirSync(join(dir, 'checkpoints'))
      .map((n) => /^step-(\d+)\.json$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
    let last = 0
    for (const line of readFileSync(join(dir, 'metrics.ndjson'), 'utf8').split('\n')) {
      const m = /"steps":\[([^\]]*)\]/.exec(line)
      const xs = m?.[1] ? m[1].split(',').map(Number) : []
      if (xs.length > 0) last = Math.max(last, xs[xs.length - 1])
    }
    return steps.length > 0 && Math.max(...steps) === last
  } catch {
    return false
  }
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}

async function main(): Promise<void> {
  await startServer()
  const rssTimer = setInterval(sampleRss, 200)
  console.log(`soak: ${args.minutes} min, ${CLIENTS} clients, ${KILLS} kills${tmpfs ? ', a full disk' : ''}; data in ${dataDir}`)
  await Promise.all([prober(), faults(), ...Array.from({ length: CLIENTS }, (_, i) => clientLoop(i))])

  // A clean stop while two sessions train: their runs must be closed (not left live) with a
  // final checkpoint at the last step their metrics reached.
  const stayers = new Client()
  const trained: string[] = []
  if (await stayers.connect()) {
    for (let k = 0; k < 2; k++) {
      const r = await stayers.request('session.create', sessionSpec(500_000 + k))
      if (!r.ok) continue
      const info = r.result as { state: { sessionId: string }; runId?: string | null }
      if (info.runId) trained.push(info.runId)
      await stayers.request('session.start', { sessionId: info.state.sessionId })
    }
    await sleep(3_000)
  }
  const s = server!
  const exited = new Promise<number | null>((resolve) => s.once('exit', (code) => resolve(code)))
  s.kill('SIGTERM')
  const code = await exited
  clearInterval(rssTimer)
  const runs = await checkRuns()
  const closedAtLastStep = trained.filter((runId) => lastCheckpointIsLastStep(runId)).length
  server?.kill('SIGTERM')

  const byCode = [...errors.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')
  console.log('')
  console.log(`requests:           ${requests}`)
  console.log(`errors:             ${[...errors.values()].reduce((a, b) => a + b, 0)} (${byCode || 'none'})`)
  console.log(
    `host.hello latency: p50 ${percentile(helloMs, 50).toFixed(1)} ms, p99 ${percentile(helloMs, 99).toFixed(1)} ms, max ${Math.max(...helloMs).toFixed(1)} ms (${helloMs.length} probes)`,
  )
  console.log(`peak RSS (server):  ${(peakRssKiB / 1024).toFixed(0)} MiB`)
  console.log(`kill -9:            ${kills}; connections refused ${connectionsRefused}`)
  console.log(
    `clean stop:         exit code ${code}; ${closedAtLastStep} of ${trained.length} runs training at SIGTERM ` +
      `have a checkpoint at their last logged step; after a restart ${runs.live} runs are still marked live`,
  )
  console.log(`runs intact:        ${runs.intact} of ${runs.total}${runs.damaged.length ? `; damaged: ${runs.damaged.join('; ')}` : ''}`)
  for (const [k, m] of firstMessage) console.log(`first ${k}: ${m}`)
  for (const n of notes) console.log(`note: ${n}`)

  await sleep(500)
  if (tmpfs) spawnSync('umount', [dataDir])
  if (!args.keep) rmSync(base, { recursive: true, force: true })
  process.exit(runs.intact === runs.total && runs.live === 0 && closedAtLastStep === trained.length ? 0 : 1)
}

main().catch((e: unknown) => {
  console.error('soak failed:', e)
  server?.kill('SIGKILL')
  if (tmpfs) spawnSync('umount', ['-l', dataDir])
  process.exit(1)
})

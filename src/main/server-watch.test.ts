// POST /api/watch over real sockets with a real engine host: only the exact token (header or
// query, never the cookie) gets in, a foreign page's Origin is refused, bodies that are too big,
// not JSON or not a report are refused with messages that say why; and studio_watch.py itself,
// run by python3 with torch, records a run, and survives a wrong token and a studio that is gone.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EventMessage } from '../shared/protocol'
import { WATCH_LIMITS } from '../shared/protocol-watch'
import { EngineHost } from '../host/host'
import { cookieValue } from './serve-auth'
import { inProcess } from './serve-test-helpers'
import { rateLimiter } from './serve-watch'
import { startServer, type RunningServer } from './server'

const TOKEN = 'Watch_0123456789abcdefGH'
const SKIP = process.env.BPS_SKIP_PYTHON === '1'
let dataDir: string
let host: EngineHost
let server: RunningServer
const events: EventMessage[] = []

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'bps-watch-'))
  host = new EngineHost((m) => events.push(m), { dataDir })
  const listeners = new Set<(m: EventMessage) => void>()
  server = await startServer({ token: TOKEN, staticDir: dataDir, engine: inProcess(host, listeners) })
})
afterAll(async () => {
  await server.close()
  host.dispose()
  rmSync(dataDir, { recursive: true, force: true })
})

interface Answer {
  status: number
  json: { ok: boolean; runId?: string; error?: { code: string; message: string } }
}

function post(path: string, body: string | Buffer, headers: Record<string, string> = {}, method = 'POST'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: server.port, path, method, headers: { 'Content-Type': 'application/json', ...headers } },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (text += c))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Answer['json'] }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

const report = (watchId = 'server-test-1') =>
  JSON.stringify({
    watchId,
    name: 'from a test',
    layers: ['fc'],
    points: [{ step: 1, loss: 0.5, stats: [{ gradNorm: 1, meanAbsGrad: 0.1, maxAbsGrad: 0.5, weightNorm: 3 }] }],
  })
const bearer = (t: string) => ({ Authorization: `Bearer ${t}` })

describe('POST /api/watch: who may report', () => {
  it('takes the exact token by header or query and refuses none, a wrong one, a prefix, an extension and the cookie', async () => {
    expect((await post('/api/watch', report(), bearer(TOKEN))).json).toMatchObject({ ok: true, runId: expect.stringMatching(/^r/) })
    expect((await post(`/api/watch?token=${TOKEN}`, report())).status).toBe(200)
    const refusals = [
      await post('/api/watch', report()),
      await post('/api/watch', report(), bearer('Wrong_0123456789abcdefGH')),
      await post('/api/watch', report(), bearer(TOKEN.slice(0, -1))),
      await post('/api/watch', report(), bearer(`${TOKEN}x`)),
      await post(`/api/watch?token=${TOKEN.slice(0, 16)}`, report()),
      // A wrong header is not rescued by a right query token.
      await post(`/api/watch?token=${TOKEN}`, report(), bearer(`${TOKEN}x`)),
      await post('/api/watch', report(), { Cookie: `backprop_studio_${server.port}=${cookieValue(TOKEN, server.port)}` }),
    ]
    for (const r of refusals) {
      expect(r.status).toBe(403)
      expect(r.json.error?.message).toBe('watch: missing or wrong token: pass the token the studio printed (Authorization: Bearer <token>)')
    }
    const foreign = await post('/api/watch', report(), { ...bearer(TOKEN), Origin: 'http://evil.example' })
    expect(foreign).toMatchObject({
      status: 403,
      json: { error: { message: 'watch: requests from pages of http://evil.example are refused' } },
    })
    expect((await post('/api/watch', '', bearer(TOKEN), 'GET')).status).toBe(405)
  })
})

describe('POST /api/watch: what may be reported', () => {
  it('refuses oversized, non-JSON, mistyped and malformed bodies, saying what was wrong', async () => {
    const big = await post('/api/watch', Buffer.alloc(WATCH_LIMITS.maxBodyBytes + 1, 32), bearer(TOKEN))
    expect(big.status).toBe(413)
    expect(big.json.error?.message).toContain(`more than ${WATCH_LIMITS.maxBodyBytes}`)
    const notJson = await post('/api/watch', '{"watchId": ', bearer(TOKEN))
    expect(notJson.status).toBe(400)
    expect(notJson.json.error?.message).toMatch(/^watch: the body is not JSON/)
    const form = await post('/api/watch', report(), { ...bearer(TOKEN), 'Content-Type': 'text/plain' })
    expect(form).toMatchObject({ status: 415, json: { error: { message: 'watch: the body must be application/json, not "text/plain"' } } })
    const tooMany = JSON.stringify({
      watchId: 'server-test-2',
      name: 'x',
      layers: [],
      points: Array.from({ length: 300 }, (_, i) => ({ step: i, loss: 1 })),
    })
    const many = await post('/api/watch', tooMany, bearer(TOKEN))
    expect(many.status).toBe(400)
    expect(many.json.error?.message).toContain('points: Too big')
    const badStep = JSON.stringify({ watchId: 'server-test-3', name: 'x', layers: [], points: [{ step: -1, loss: 'low' }] })
    const malformed = await post('/api/watch', badStep, bearer(TOKEN))
    expect(malformed.status).toBe(400)
    expect(malformed.json.error?.message).toMatch(/^watch: the report is malformed: points\[0\]\.step: .*; points\[0\]\.loss: /)
  })

  it('limits reports to a bucket per second', () => {
    let now = 0
    const allow = rateLimiter(3, () => now)
    expect([allow(), allow(), allow(), allow()]).toEqual([true, true, true, false])
    now = 340
    expect([allow(), allow()]).toEqual([true, false])
  })
})

const PY = fileURLToPath(new URL('../../e2e/fixtures/watch_train.py', import.meta.url))
const WATCH_DIR = fileURLToPath(new URL('../host/export/', import.meta.url))

function train(
  url: string,
  steps: number,
): Promise<{ code: number; out: { sent: number; dropped: number; last_error: string | null; run_id: string | null }; err: string }> {
  return new Promise((resolve) => {
    execFile(
      '/usr/bin/python3',
      [PY, url, String(steps)],
      { env: { ...process.env, STUDIO_WATCH_DIR: WATCH_DIR, PYTHONDONTWRITEBYTECODE: '1' }, timeout: 120_000 },
      (e, stdout, stderr) =>
        resolve({ code: e ? Number(e.code ?? 1) : 0, out: JSON.parse(stdout.trim().split('\n').at(-1) || '{}'), err: stderr }),
    )
  })
}

describe.skipIf(SKIP)('studio_watch.py against the server (python3-torch)', () => {
  it('needs only the standard library (torch only for the model it is given) and refuses a remote studio by default', async () => {
    const code = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(WATCH_DIR)})`,
      "sys.modules['torch'] = None; sys.modules['numpy'] = None",
      'import studio_watch',
      'try:',
      "    studio_watch.StudioWatch('http://10.1.2.3:8765/?token=abcdefghijklmnop')",
      'except ValueError as e:',
      "    print('refused:', e)",
      "w = studio_watch.StudioWatch('http://127.0.0.1:9/?token=abcdefghijklmnop', verbose=False)",
      "w.log(1, 0.5); w.log(2, float('nan'))",
      'print(json.dumps(w.close()))',
    ].join('\n')
    const r = await new Promise<{ code: number; out: string }>((done) =>
      execFile('/usr/bin/python3', ['-I', '-B', '-c', code], { timeout: 60_000 }, (e, stdout) => done({ code: e ? 1 : 0, out: stdout })),
    )
    expect(r.code).toBe(0)
    expect(r.out).toContain('refused: StudioWatch: 10.1.2.3 is not this machine')
    expect(JSON.parse(r.out.trim().split('\n').at(-1)!)).toMatchObject({ sent: 0, dropped: 2 })
  }, 60_000)

  it('streams a PyTorch loop into a saved external run with per-layer statistics', async () => {
    const r = await train(server.url, 30)
    expect(r.code, r.err).toBe(0)
    expect(r.out).toMatchObject({ sent: 30, dropped: 0, last_error: null, run_id: expect.stringMatching(/^r/) })
    const rec = JSON.parse(readFileSync(join(dataDir, r.out.run_id!, 'run.json'), 'utf8'))
    expect(rec).toMatchObject({ status: 'saved', name: 'torch xor', stats: { steps: 30 } })
    expect(rec.external).toEqual({
      source: 'studio_watch',
      layers: ['0', '2', '4'],
      shapes: [
        [16, 2],
        [16, 16],
        [1, 16],
      ],
      dropped: 0,
    })
    const lines = readFileSync(join(dataDir, r.out.run_id!, 'metrics.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const layers = lines.flatMap((l) => l.layers)
    expect(layers).toHaveLength(30)
    expect(layers[0].stats).toHaveLength(3)
    expect(layers[0].stats[0].gradNorm).toBeGreaterThan(0)
    expect(layers[0].stats[0].updateRatio).toBeCloseTo((0.1 * layers[0].stats[0].gradNorm) / layers[0].stats[0].weightNorm, 6)
  }, 120_000)

  it('drops and counts when the token is wrong or the studio is gone, and the loop finishes', async () => {
    const wrong = await train(`${server.origin}/?token=Wrong_0123456789abcdefGH`, 20)
    expect(wrong.code, wrong.err).toBe(0)
    expect(wrong.out).toMatchObject({ sent: 0, dropped: 20, last_error: expect.stringContaining('missing or wrong token') })
    // A port nobody listens on: every point is dropped and counted, nothing is raised.
    const gone = await train('http://127.0.0.1:9/?token=Gone_0123456789abcdefGH', 20)
    expect(gone.code, gone.err).toBe(0)
    expect(gone.out).toMatchObject({ sent: 0, dropped: 20, run_id: null })
    expect(gone.err).toContain('is not answering')
  }, 120_000)
})

// Test helpers for serve mode over real sockets: raw HTTP requests, WebSocket clients, an inbox
// that awaits messages in order, and an in-process engine adapter over a real EngineHost.
import { connect as netConnect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { WebSocket } from 'ws'
import type { EventMessage, ReplyMessage } from '../shared/protocol'
import type { ServerEngine } from './server'
import type { EngineHost } from '../host/host'

export interface Res {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

export function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Res> {
  return new Promise((resolve, reject) => {
    // Raw path on purpose: fetch/URL would normalise the traversal attempts away.
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Send a request exactly as written (e.g. two Host headers) and return the status line's code. */
export function rawStatus(port: number, text: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = netConnect(port, '127.0.0.1', () => s.write(text))
    let got = ''
    s.setEncoding('utf8')
    s.on('data', (c: string) => {
      got += c
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got)
      if (m) {
        resolve(Number(m[1]))
        s.destroy()
      }
    })
    s.on('error', reject)
    s.on('close', () => resolve(0))
  })
}

export function connect(
  port: number,
  query: string,
  headers: Record<string, string> = {},
  origin: string | undefined = `http://127.0.0.1:${port}`,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws${query}`, { headers, ...(origin ? { origin } : {}) })
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused with ${res.statusCode}`)))
    ws.once('error', reject)
  })
}

export type Inbox = (pred?: (m: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>

/** Messages a socket receives, awaited in order; `all` keeps every one for later inspection. */
export function inbox(ws: WebSocket, all: Record<string, unknown>[] = []): Inbox {
  const seen: Record<string, unknown>[] = []
  const waiters: { pred: (m: Record<string, unknown>) => boolean; resolve: (m: Record<string, unknown>) => void }[] = []
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as Record<string, unknown>
    all.push(m)
    const i = waiters.findIndex((w) => w.pred(m))
    if (i >= 0) waiters.splice(i, 1)[0]?.resolve(m)
    else seen.push(m)
  })
  return (pred = () => true) =>
    new Promise((resolve) => {
      const i = seen.findIndex(pred)
      if (i >= 0) resolve(seen.splice(i, 1)[0] as Record<string, unknown>)
      else waiters.push({ pred, resolve })
    })
}

let nextRequestId = 1

/** Requests over `ws`, each answered by the reply `next` sees with its id. */
export function asker(ws: WebSocket, next: Inbox): (kind: string, payload: unknown) => Promise<ReplyMessage> {
  return async (kind, payload) => {
    const id = nextRequestId++
    ws.send(JSON.stringify({ v: 1, id, kind, payload }))
    return (await next((m) => m['id'] === id)) as unknown as ReplyMessage
  }
}

/** What EngineProcess gives the server, over an EngineHost in this thread. */
export function inProcess(host: EngineHost, listeners: Set<(m: EventMessage, owner?: string) => void>): ServerEngine {
  return {
    request: (msg, client) => host.handle(msg, client ?? null),
    onEvent: (cb) => {
      listeners.add(cb)
      return () => listeners.delete(cb)
    },
    release: (client) => host.release(client),
  }
}

export const closed = (ws: WebSocket): Promise<{ code: number; reason: string }> =>
  new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })))

/**
 * The real worker entry in a worker_threads Worker, loaded through tsx (vitest cannot do
 * electron-vite's `?nodeWorker` import): the same code and the same thread hop as the app.
 */
export function workerBoot(): string {
  const entry = fileURLToPath(new URL('../host/index.ts', import.meta.url))
  const rawHook = fileURLToPath(new URL('../host/datasets/raw-register.mjs', import.meta.url))
  return `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(rawHook)}) }).then(() => import(${JSON.stringify(entry)}))`
}

export function realWorker(dataDir: string): Worker {
  return new Worker(workerBoot(), { eval: true, workerData: { dataDir } })
}

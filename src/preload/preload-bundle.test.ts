// The built preload, not its source: electron-vite builds it (the project's own config, into a
// temporary folder) and the CommonJS file is run the way a sandboxed preload runs, with a
// `require` that offers only 'electron' — here a fake contextBridge and ipcRenderer. Electron
// cannot launch on these machines, so this is how the exposed API is checked end to end: one
// function per request kind on its own channel, nothing generic, no other module reached for.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compileFunction } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BRIDGE_GLOBAL, bridgeFunctionName } from '../shared/bridge'
import { IpcChannel, requestChannel } from '../shared/ipc-channels'
import { REQUEST_KINDS, type EventMessage } from '../shared/protocol'
import { fakeIpcRenderer, HOSTILE_ARGUMENTS } from './test-helpers'

let outDir = ''
let code = ''

/** Builds the preload with electron.vite.config.ts, as `electron-vite build` does, into `dir`. */
async function buildPreload(dir: string): Promise<string> {
  const nodeEnv = process.env['NODE_ENV']
  try {
    const { resolveConfig } = await import('electron-vite')
    const { build } = await import('vite')
    const resolved = await resolveConfig(
      { configFile: 'electron.vite.config.ts', build: { outDir: dir }, logLevel: 'silent' },
      'build',
      'production',
    )
    const preload = resolved.config?.preload
    if (!preload) throw new Error('electron.vite.config.ts has no preload target')
    await build(preload)
  } finally {
    // resolveConfig sets NODE_ENV for the build; the rest of this worker expects its own.
    if (nodeEnv === undefined) delete process.env['NODE_ENV']
    else process.env['NODE_ENV'] = nodeEnv
  }
  return readFileSync(join(dir, 'preload', 'index.cjs'), 'utf8')
}

/** Runs the bundle as CommonJS with only a fake 'electron' to require; returns what it exposed. */
function load(bundle: string, fail = false) {
  const fake = fakeIpcRenderer(fail)
  const exposed: [string, unknown][] = []
  const required: string[] = []
  const electron = {
    contextBridge: { exposeInMainWorld: (name: string, api: unknown) => exposed.push([name, api]) },
    ipcRenderer: fake.ipc,
  }
  const require = (id: string): unknown => {
    required.push(id)
    if (id === 'electron') return electron
    throw new Error(`a sandboxed preload cannot require ${id}`)
  }
  const module = { exports: {} }
  // compileFunction refuses ES module syntax, so this also proves the preload is CommonJS.
  compileFunction(bundle, ['require', 'module', 'exports', '__filename', '__dirname'])(require, module, module.exports, 'index.cjs', '.')
  return { ...fake, exposed, required }
}

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'bps-preload-'))
  code = await buildPreload(outDir)
}, 120_000)

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true })
})

describe('the built preload (out/preload/index.cjs)', () => {
  it('is a self-contained CommonJS file that requires only electron and bundles no schemas', () => {
    const { required } = load(code)
    expect(required).toEqual(['electron'])
    expect(code).not.toMatch(/\bzod\b|safeParse|ZodError/)
  })

  it('exposes one API under its unique global: version, getAppInfo, onEvent and one function per request kind', () => {
    const { exposed } = load(code)
    expect(exposed).toHaveLength(1)
    const [name, api] = exposed[0]!
    expect(name).toBe(BRIDGE_GLOBAL)
    const names = REQUEST_KINDS.map(bridgeFunctionName)
    expect(Object.keys(api as object).sort()).toEqual(
      ['copyLink', 'getAppInfo', 'onEvent', 'onOpenLink', 'takeOpenLink', 'version', ...names].sort(),
    )
    expect((api as { version: unknown }).version).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version)
  })

  it('sends each request kind on its own channel only, whatever the page passes', async () => {
    const { exposed, invoked } = load(code)
    const api = exposed[0]![1] as Record<string, (...args: unknown[]) => Promise<unknown>>
    for (const kind of REQUEST_KINDS) {
      for (const args of HOSTILE_ARGUMENTS) {
        invoked.length = 0
        await api[bridgeFunctionName(kind)]!(...args)
        expect(invoked.map((c) => c.channel)).toEqual([requestChannel(kind)])
        expect((invoked[0]!.args[0] as { kind: unknown }).kind).toBe(kind)
      }
    }
    invoked.length = 0
    await api['getAppInfo']!('engine.runs.delete')
    expect(invoked.map((c) => c.channel)).toEqual([IpcChannel.appInfo])
  })

  it('reaches no channel outside the ones main registers', async () => {
    const { exposed, invoked } = load(code)
    const api = exposed[0]![1] as Record<string, unknown>
    for (const [key, value] of Object.entries(api)) {
      if (typeof value !== 'function' || key === 'onEvent' || key === 'onOpenLink') continue
      for (const args of HOSTILE_ARGUMENTS) await (value as (...a: unknown[]) => Promise<unknown>)(...args)
    }
    const reachable = new Set(invoked.map((c) => c.channel))
    expect([...reachable].sort()).toEqual(
      [IpcChannel.appInfo, IpcChannel.copyLink, IpcChannel.takeOpenLink, ...REQUEST_KINDS.map((k) => requestChannel(k))].sort(),
    )
  })

  it('listens on the event channel only, and hands the page the message alone', () => {
    const { exposed, listeners } = load(code)
    const api = exposed[0]![1] as { onEvent: (listener: (...args: unknown[]) => void) => () => void }
    const seen: unknown[][] = []
    const off = api.onEvent((...args) => seen.push(args))
    expect([...listeners.keys()]).toEqual([IpcChannel.engineEvent])
    const msg: EventMessage = { v: 1, event: 'host.status', payload: { status: 'restarted', message: 'x' } }
    for (const fn of listeners.get(IpcChannel.engineEvent)!) fn({ sender: 'ipc internals', ports: [] }, msg)
    expect(seen).toEqual([[msg]])
    off()
    expect(listeners.get(IpcChannel.engineEvent)!.size).toBe(0)
  })

  it('never hands over ipcRenderer, and a failed IPC call still answers with a reply envelope', async () => {
    const { exposed, ipc } = load(code, true)
    const api = exposed[0]![1] as Record<string, unknown>
    for (const leaked of [ipc, ipc.invoke, ipc.on, ipc.removeListener]) expect(Object.values(api)).not.toContain(leaked)
    const reply = await (api['hostHello'] as (m: unknown) => Promise<unknown>)({ v: 1, id: 4, kind: 'host.hello', payload: {} })
    expect(reply).toEqual({ v: 1, id: 4, ok: false, error: { code: 'internal', message: 'IPC failed: No handler registered' } })
  })
})

// The backends there are, and the default one for scripts. The CPU backend is always there;
// others (WebGPU) register a factory. `backends.resolve` makes one without touching the default, so
// a host with several sessions places each session's tensors explicitly; `setBackend` only changes
// where tensors go when a call names no backend.
import { EngineError } from '../errors.js'
import type { Backend } from './backend.js'
import { cpuBackend } from './cpu/index.js'

export type BackendName = 'cpu' | 'webgpu'
export type BackendChoice = BackendName | 'auto'

export interface BackendInfo {
  name: BackendName
  /** Why this backend is in use (what `auto` decided, or that it was asked for). */
  reason: string
}

/**
 * Makes the backend or says why it cannot. `choice` tells whether the user asked for it
 * explicitly ('webgpu': a software adapter is acceptable) or `auto` is probing (it is not).
 */
export type BackendFactory = (choice: 'auto' | 'webgpu') => Promise<{ backend: Backend; reason?: string } | { unavailable: string }>

const factories = new Map<BackendName, BackendFactory>()
let current: Backend = cpuBackend
let info: BackendInfo = { name: 'cpu', reason: 'default backend' }

export function registerBackend(name: BackendName, factory: BackendFactory): void {
  factories.set(name, factory)
}

/** A backend object and why it is the one (what `auto` decided, or that it was asked for). */
export interface ResolvedBackend {
  backend: Backend
  info: BackendInfo
}

/** The backend objects made so far, by name: what `backends.get` returns. */
const made = new Map<BackendName, Backend>([['cpu', cpuBackend]])

async function resolve(op: string, choice: BackendChoice): Promise<ResolvedBackend> {
  if (choice === 'cpu') return { backend: cpuBackend, info: { name: 'cpu', reason: 'requested' } }
  if (choice !== 'auto' && choice !== 'webgpu') {
    throw new EngineError(op, 'argument', `unknown backend "${String(choice)}"; expected "cpu", "webgpu" or "auto"`)
  }
  const factory = factories.get('webgpu')
  const result = factory ? await factory(choice) : { unavailable: 'no WebGPU backend is registered in this build' }
  if ('backend' in result) {
    made.set('webgpu', result.backend)
    return {
      backend: result.backend,
      info: { name: 'webgpu', reason: result.reason ?? (choice === 'auto' ? 'auto: a hardware WebGPU adapter was found' : 'requested') },
    }
  }
  if (choice === 'webgpu') throw new EngineError(op, 'backend', `WebGPU is unavailable: ${result.unavailable}`)
  return { backend: cpuBackend, info: { name: 'cpu', reason: `auto: ${result.unavailable}` } }
}

/**
 * Backend objects for explicit placement (`tensor(data, { backend })`, `nn.MLP(sizes, { backend })`,
 * `module.to(backend)`). Neither changes the default backend.
 */
export const backends = {
  /** Make (or reuse) the backend for `choice`: 'auto' settles on the CPU when WebGPU is unavailable or software, saying why. */
  resolve: (choice: BackendChoice): Promise<ResolvedBackend> => resolve('backends.resolve', choice),
  /** The backend object of that name, once made ('cpu' always is; 'webgpu' after a resolve). */
  get(name: BackendName): Backend {
    const be = made.get(name)
    if (be) return be
    if (name !== 'webgpu')
      throw new EngineError('backends.get', 'argument', `unknown backend "${String(name)}"; expected "cpu" or "webgpu"`)
    throw new EngineError('backends.get', 'backend', "the webgpu backend has not been made yet; await backends.resolve('webgpu') first")
  },
}

/** Change the default backend: where tensors go when a call names none (scripts and tests). */
export async function setBackend(choice: BackendChoice): Promise<BackendInfo> {
  const r = await resolve('setBackend', choice)
  current = r.backend
  info = r.info
  return { ...info }
}

export function getBackend(): BackendInfo {
  return { ...info }
}

/** The default backend: where new tensors go when the call names no backend. */
export function currentBackend(): Backend {
  return current
}

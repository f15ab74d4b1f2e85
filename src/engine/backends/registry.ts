// Which backend new tensors are created on. The CPU backend is always there; others (WebGPU)
// register a factory and are chosen with setBackend.
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

export async function setBackend(choice: BackendChoice): Promise<BackendInfo> {
  if (choice === 'cpu') {
    current = cpuBackend
    info = { name: 'cpu', reason: 'requested' }
    return info
  }
  if (choice !== 'auto' && choice !== 'webgpu') {
    throw new EngineError('setBackend', 'argument', `unknown backend "${String(choice)}"; expected "cpu", "webgpu" or "auto"`)
  }
  const factory = factories.get('webgpu')
  const result = factory ? await factory(choice) : { unavailable: 'no WebGPU backend is registered in this build' }
  if ('backend' in result) {
    current = result.backend
    info = { name: 'webgpu', reason: result.reason ?? (choice === 'auto' ? 'auto: a hardware WebGPU adapter was found' : 'requested') }
    return info
  }
  if (choice === 'webgpu') throw new EngineError('setBackend', 'backend', `WebGPU is unavailable: ${result.unavailable}`)
  current = cpuBackend
  info = { name: 'cpu', reason: `auto: ${result.unavailable}` }
  return info
}

export function getBackend(): BackendInfo {
  return { ...info }
}

/** The backend new tensors are created on. */
export function currentBackend(): Backend {
  return current
}

// The worker's WebGPU device and the backend choice of a session. Dawn (the `webgpu` npm
// package) is loaded and its one device per thread created lazily, the first time a session asks
// for 'webgpu' or 'auto', then cached for the worker's life (Dawn crashes when instances are made
// and collected again). The engine's default backend is never switched here: a session gets its
// backend object and places its model and tensors on it explicitly (a WebGPU session keeps a CPU
// mirror beside its device copy, training/device-driver.ts), so overlapping creates cannot swap backends.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { backends, EngineError, registerWebGpu, type Backend, type BackendInfo } from '../engine'
import { HostError } from './errors'

/**
 * Dawn's instance, adapter and device live on globalThis under the key the engine's test host
 * uses too, so a thread never makes a second instance whichever module asks first.
 */
const DAWN = Symbol.for('backprop-studio.node-webgpu')
type Dawn = { gpu: GPU; adapter: GPUAdapter; device: GPUDevice } | { problem: string }
type HostGlobal = typeof globalThis & { [DAWN]?: Promise<Dawn> }
const host = globalThis as HostGlobal

/** How the device is obtained; tests replace it to simulate a machine without a usable GPU. */
export type DeviceSource = () => Promise<GPUDevice | { problem: string }>

async function loadDawn(): Promise<Dawn> {
  let mod: typeof import('webgpu')
  try {
    mod = await import('webgpu')
  } catch (e) {
    return { problem: `the Dawn WebGPU module (npm package "webgpu") could not be loaded: ${e instanceof Error ? e.message : String(e)}` }
  }
  Object.assign(globalThis, mod.globals)
  const gpu = mod.create([])
  const adapter = await gpu.requestAdapter()
  if (!adapter)
    return {
      problem: `Dawn found no WebGPU adapter (no usable Vulkan, Metal or D3D12 driver; VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'})`,
    }
  const { maxStorageBufferBindingSize, maxBufferSize } = adapter.limits
  const device = await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize, maxBufferSize } })
  return { gpu, adapter, device }
}

/** The thread's Dawn device (created on the first call), or why there is none. */
const dawnDevice: DeviceSource = async () => {
  host[DAWN] ??= loadDawn()
  const r = await host[DAWN]
  return 'problem' in r ? r : r.device
}

/**
 * V8's collector, for the WebGPU buffer pool: GPU memory is invisible to V8's heuristics, so the
 * pool asks for a collection after handing out a budget of buffers (README "The WebGPU backend").
 */
function gcHook(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (typeof exposed === 'function') return exposed
  try {
    setFlagsFromString('--expose-gc')
    return runInNewContext('gc') as () => void
  } catch {
    return undefined
  }
}

let source: DeviceSource = dawnDevice
let registered: Promise<string | null> | null = null

/** Replace how the device is obtained (tests); the next WebGPU request asks it again. */
export function setDeviceSource(s: DeviceSource | null): void {
  source = s ?? dawnDevice
  registered = null
}

/**
 * Register the engine's WebGPU backend on the worker's device, once; resolves to null when it is
 * registered, or to why there is no device (remembered: Dawn is not retried within a worker).
 */
export function ensureWebGpu(): Promise<string | null> {
  registered ??= (async () => {
    try {
      const r = await source()
      if ('problem' in r) return r.problem
      registerWebGpu(r, { collectGarbage: gcHook() })
      return null
    } catch (e) {
      return `creating the WebGPU device failed: ${e instanceof Error ? e.message : String(e)}`
    }
  })()
  return registered
}

/** The session's backend: which one it trains on and why, with the engine's backend object. */
export interface ChosenBackend {
  info: BackendInfo
  backend: Backend
}

/**
 * Resolve a session's backend choice. 'auto' settles on the CPU when Dawn cannot give a device or
 * the adapter is a software one (saying why); an explicit 'webgpu' then fails as
 * backend_unavailable naming the reason. No global is read or written across the awaits.
 */
export async function chooseBackend(choice: 'auto' | 'cpu' | 'webgpu'): Promise<ChosenBackend> {
  const cpu = backends.get('cpu')
  if (choice === 'cpu') return { info: { name: 'cpu', reason: 'requested' }, backend: cpu }
  const problem = await ensureWebGpu()
  if (problem !== null) {
    if (choice === 'webgpu') throw new HostError('backend_unavailable', `WebGPU is unavailable: ${problem}; choose cpu or auto`)
    return { info: { name: 'cpu', reason: `auto: ${problem}` }, backend: cpu }
  }
  try {
    return await backends.resolve(choice)
  } catch (e) {
    const detail = e instanceof EngineError ? e.message.replace(/^backends\.resolve: /, '') : String(e)
    throw new HostError('backend_unavailable', `${detail}; choose cpu or auto`)
  }
}

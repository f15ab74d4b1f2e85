// The Node host of the WebGPU backend for tests and benchmarks: the one module under src/engine
// that imports Dawn (`webgpu`); the engine itself only ever receives a GPU or a GPUDevice.
// Dawn allows ONE instance and ONE device per thread for its lifetime (instances created and
// collected again crash it), so both are made once and cached on globalThis, where vitest's
// per-file module re-evaluation cannot drop them.
import { create, globals } from 'webgpu'

export interface NodeWebGpu {
  gpu: GPU
  adapter: GPUAdapter
  device: GPUDevice
}

const KEY = Symbol.for('backprop-studio.node-webgpu')
type HostGlobal = typeof globalThis & {
  [KEY]?: Promise<NodeWebGpu | { problem: string }>
  process?: { env: Record<string, string | undefined> }
  gc?: () => void
}
const host = globalThis as HostGlobal

export function env(name: string): string | undefined {
  return host.process?.env[name]
}

/** The process-wide Dawn instance, adapter and device, or why there is none. */
export function nodeWebGpu(): Promise<NodeWebGpu | { problem: string }> {
  host[KEY] ??= (async () => {
    Object.assign(globalThis, globals)
    const gpu = create([])
    const adapter = await gpu.requestAdapter()
    if (!adapter) {
      const icd = env('VK_ICD_FILENAMES')
      return {
        problem:
          `no WebGPU adapter was found (VK_ICD_FILENAMES=${icd ?? 'unset'}). Install SwiftShader ` +
          '(apt-get install chromium libvulkan1) and export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json, ' +
          'or set BPS_SKIP_WEBGPU=1 to skip the webgpu suites',
      }
    }
    const { maxStorageBufferBindingSize, maxBufferSize } = adapter.limits
    const device = await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize, maxBufferSize } })
    return { gpu, adapter, device }
  })()
  return host[KEY]
}

/** Like nodeWebGpu, but a missing adapter is an error that says how to get one. */
export async function requireNodeWebGpu(): Promise<NodeWebGpu> {
  const r = await nodeWebGpu()
  if ('problem' in r) throw new Error(`webgpu: ${r.problem}`)
  return r
}

/** The GC hook for the backend's pool: global.gc when Node runs with --expose-gc. */
export function exposedGc(): (() => void) | undefined {
  return typeof host.gc === 'function' ? host.gc : undefined
}

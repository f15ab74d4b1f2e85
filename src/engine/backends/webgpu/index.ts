// The WebGPU backend's public surface (re-exported by src/engine/index.ts).
import { WebGpuBackend, type WebGpuOptions } from './backend.js'

export { WebGpuBackend, type WebGpuOptions, type PoolStats } from './backend.js'
export { registerWebGpu, webGpuFactory, type WebGpuSource } from './register.js'
export { isSoftwareAdapter } from './adapter.js'

/** A backend over a device the host already has (one device per thread, for its lifetime). */
export function createWebGpuBackend(device: GPUDevice, options: WebGpuOptions = {}): WebGpuBackend {
  return new WebGpuBackend(device, options)
}

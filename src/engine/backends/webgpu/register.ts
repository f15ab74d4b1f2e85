// How setBackend finds a GPU: the host hands over a GPU (navigator.gpu, or Dawn's `create()` in
// Node) or a ready GPUDevice. `auto` accepts only hardware adapters: on a software one
// (SwiftShader) the CPU backend is faster, so it is declined with the reason.
import { registerBackend, type BackendFactory } from '../registry.js'
import { isSoftwareAdapter } from './adapter.js'
import { WebGpuBackend, type WebGpuOptions } from './backend.js'

export type WebGpuSource = GPU | GPUDevice

function describe(info: Partial<GPUAdapterInfo> | undefined): string {
  const text = [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ')
  return text || 'unnamed adapter'
}

function isDevice(source: WebGpuSource): source is GPUDevice {
  return typeof (source as GPUDevice).createBuffer === 'function'
}

/**
 * A registry factory over `source`. One device is requested the first time WebGPU is chosen and
 * reused after; if that device is lost, choosing WebGPU again requests a fresh one.
 */
export function webGpuFactory(source: WebGpuSource, options: WebGpuOptions = {}): BackendFactory {
  let backend: WebGpuBackend | null = null
  let info: Partial<GPUAdapterInfo> | undefined
  let software = false

  return async (choice) => {
    if (!backend || backend.isLost) {
      let device: GPUDevice
      if (isDevice(source)) {
        if (backend?.device === source) return { unavailable: 'the GPU device given to the engine was lost' }
        device = source
        info = source.adapterInfo as Partial<GPUAdapterInfo> | undefined
        software = isSoftwareAdapter(info)
      } else {
        const adapter = await source.requestAdapter({ powerPreference: 'high-performance' })
        if (!adapter) return { unavailable: 'no WebGPU adapter was found' }
        info = adapter.info
        const legacyFallback = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true
        software = isSoftwareAdapter(info, legacyFallback)
        // Probing must not take a device it would not use.
        if (software && choice === 'auto') return { unavailable: softwareReason(info) }
        const { maxStorageBufferBindingSize, maxBufferSize } = adapter.limits
        device = await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize, maxBufferSize } })
      }
      backend = new WebGpuBackend(device, options)
    }
    if (software && choice === 'auto') return { unavailable: softwareReason(info) }
    if (choice === 'auto') return { backend, reason: `auto: a hardware WebGPU adapter was found (${describe(info)})` }
    const note = software ? ': a software adapter, expect it to be slower than the cpu backend' : ''
    return { backend, reason: `requested (${describe(info)}${note})` }
  }
}

function softwareReason(info: Partial<GPUAdapterInfo> | undefined): string {
  return `only a software WebGPU adapter (${describe(info)}) was found; the CPU backend is faster`
}

/** Make setBackend('webgpu' | 'auto') able to use `source`. */
export function registerWebGpu(source: WebGpuSource, options: WebGpuOptions = {}): void {
  registerBackend('webgpu', webGpuFactory(source, options))
}

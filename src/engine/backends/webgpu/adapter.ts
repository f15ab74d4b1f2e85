// Telling software adapters (CPU emulation such as SwiftShader) from GPUs: `auto` declines them,
// and kernels pick variants that suit them.

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|software|microsoft basic render/i

/** A software (CPU-emulated) adapter: the fallback flag, or a known software rasteriser's name. */
export function isSoftwareAdapter(info: Partial<GPUAdapterInfo> | undefined, isFallback = false): boolean {
  if (isFallback || info?.isFallbackAdapter) return true
  if (!info) return false
  return SOFTWARE.test([info.vendor, info.architecture, info.device, info.description].join(' '))
}

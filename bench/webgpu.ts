// The WebGPU columns: our engine's webgpu backend and TensorFlow.js's, on the same Dawn instance
// and the same adapter. On SwiftShader (no GPU) they measure per-op overhead and kernel quality,
// not GPU speed.
import { runInNewContext } from 'node:vm'
import { setFlagsFromString } from 'node:v8'
import { nodeWebGpu } from '../src/engine/testing/webgpu-host.js'
import { isSoftwareAdapter, registerWebGpu } from '../src/engine/index.js'
import { loadTfjsWebGpu } from './tfjs.js'

export interface WebGpuSetup {
  adapter: string
  software: boolean
}

/** global.gc without restarting Node with --expose-gc: the pool's GC hook (see README). */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

/** Registers our backend and tfjs's on the process-wide Dawn device, or says why not. */
export async function setupWebGpu(): Promise<WebGpuSetup | { skipped: string }> {
  const host = await nodeWebGpu()
  if ('problem' in host) return { skipped: host.problem }
  registerWebGpu(host.device, { collectGarbage: exposeGc() })
  await loadTfjsWebGpu(host.gpu)
  const info = host.adapter.info
  return {
    adapter: [info.vendor, info.architecture, info.description].filter(Boolean).join(' '),
    software: isSoftwareAdapter(info),
  }
}

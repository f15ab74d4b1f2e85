// The WebGPU columns of `npm run bench`: our webgpu backend and TensorFlow.js's on the same
// adapter (SwiftShader where there is no GPU, said beside the figures).
import type { ColumnResult, TimingOptions } from './common.js'
import { benchOurs } from './ours.js'
import { benchTfjs } from './tfjs.js'
import { setupWebGpu } from './webgpu.js'

export interface GpuColumns {
  columns: { key: string; result: ColumnResult | null; note?: string }[]
  /** The adapter's name (with "(software)" for SwiftShader), or null when there is none. */
  adapter: string | null
}

export async function benchGpuColumns(timing: Required<TimingOptions>, progress: (msg: string) => void): Promise<GpuColumns> {
  const gpu = await setupWebGpu()
  if ('skipped' in gpu) {
    return {
      columns: [
        { key: 'ours-webgpu', result: null, note: gpu.skipped },
        { key: 'tfjs-webgpu', result: null, note: gpu.skipped },
      ],
      adapter: null,
    }
  }
  const adapter = `${gpu.adapter}${gpu.software ? ' (software)' : ''}`
  const note = gpu.software
    ? `adapter ${gpu.adapter}: SwiftShader runs WebGPU on the CPU, so these figures measure per-op overhead and kernel quality against tfjs, not GPU speed`
    : `adapter ${gpu.adapter}`
  progress('ours (webgpu backend)')
  const ours = { key: 'ours-webgpu', result: await benchOurs(timing, 'webgpu'), note }
  progress('tfjs webgpu')
  const r = await benchTfjs('webgpu', timing)
  return {
    columns: [ours, { key: 'tfjs-webgpu', result: r, note: r.leakedTensors ? `${r.leakedTensors} tensors leaked` : undefined }],
    adapter,
  }
}

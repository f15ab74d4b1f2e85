// Choosing WebGPU (auto declines software adapters and says why) and losing it: a lost device
// fails every op and pending read with an error the host can act on, never a hang.
import { describe, expect, it } from 'vitest'
import { describeWebGpu, useWebGpu } from '../../testing/backends.js'
import { requireNodeWebGpu } from '../../testing/webgpu-host.js'
import { getBackend, setBackend } from '../registry.js'
import { EngineError, isSoftwareAdapter, nn, optim, registerWebGpu, softmaxCrossEntropy, tensor } from '../../index.js'

describe('isSoftwareAdapter', () => {
  it('recognises the fallback flag and software rasterisers by name, not GPUs', () => {
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader' })).toBe(true)
    expect(isSoftwareAdapter({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true)
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ampere' }, true)).toBe(true)
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ampere', isFallbackAdapter: false })).toBe(false)
    expect(isSoftwareAdapter({ vendor: 'apple', architecture: 'metal-3' })).toBe(false)
  })
})

/** A GPU whose adapter claims to be `info` but hands out the real (SwiftShader) device. */
async function gpuClaiming(info: Partial<GPUAdapterInfo>, devicesTaken: unknown[] = []): Promise<GPU> {
  const { adapter, device } = await requireNodeWebGpu()
  const fake = { info, limits: adapter.limits, requestDevice: async () => (devicesTaken.push(device), device) }
  return { requestAdapter: async () => fake } as unknown as GPU
}

async function trainSteps(steps: number): Promise<number> {
  const model = new nn.MLP([2, 8, 2], { activation: 'tanh', seed: 2 })
  const opt = new optim.SGD(model.namedParameters(), { lr: 0.1 })
  const x = tensor([
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ])
  let loss = 0
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad()
    const l = softmaxCrossEntropy(model.forward(x), [0, 1, 1, 0])
    l.backward()
    opt.step()
    loss = await l.item()
  }
  return loss
}

async function rejection(p: Promise<unknown> | (() => unknown)): Promise<EngineError> {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError)
    return e as EngineError
  }
  throw new Error('expected an EngineError')
}

describeWebGpu('choosing the webgpu backend', () => {
  it('auto on SwiftShader picks the CPU and says why, without taking a device', async () => {
    const { gpu } = await requireNodeWebGpu()
    registerWebGpu(gpu)
    const info = await setBackend('auto')
    expect(info.name).toBe('cpu')
    expect(info.reason).toMatch(/^auto: only a software WebGPU adapter \(google swiftshader.*\) was found; the CPU backend is faster$/)
    expect(getBackend()).toEqual(info)
    const taken: unknown[] = []
    registerWebGpu(await gpuClaiming({ vendor: 'google', architecture: 'swiftshader' }, taken))
    expect((await setBackend('auto')).name).toBe('cpu')
    expect(taken).toEqual([])
    await useWebGpu()
  })

  it('auto picks WebGPU on a hardware adapter; no adapter at all falls back with the reason', async () => {
    registerWebGpu(await gpuClaiming({ vendor: 'nvidia', architecture: 'ampere', description: 'RTX 3080' }))
    expect(await setBackend('auto')).toEqual({
      name: 'webgpu',
      reason: 'auto: a hardware WebGPU adapter was found (nvidia ampere RTX 3080)',
    })
    registerWebGpu({ requestAdapter: async () => null } as unknown as GPU)
    expect(await setBackend('auto')).toEqual({ name: 'cpu', reason: 'auto: no WebGPU adapter was found' })
    await expect(setBackend('webgpu')).rejects.toThrow(/setBackend: WebGPU is unavailable: no WebGPU adapter was found/)
    await useWebGpu()
  })

  it('explicit webgpu accepts SwiftShader, noting that it is a software adapter', async () => {
    const info = await setBackend('webgpu')
    expect(info).toEqual({
      name: 'webgpu',
      reason: expect.stringMatching(
        /^requested \(google swiftshader .*: a software adapter, expect it to be slower than the cpu backend\)$/,
      ),
    })
    expect(await trainSteps(3)).toBeGreaterThan(0)
  })

  it('a lost device rejects the pending read and every later op, and the CPU takes over', async () => {
    // A separate device from the same instance: the suite's own device must survive.
    const { gpu } = await requireNodeWebGpu()
    const adapter = await gpu.requestAdapter()
    const device = await adapter!.requestDevice()
    registerWebGpu(device)
    await setBackend('webgpu')
    expect(await trainSteps(2)).toBeGreaterThan(0)

    const x = tensor([
      [1, 2],
      [3, 4],
    ])
    const pending = x.matmul(x).data()
    device.destroy()
    const lost = await rejection(pending)
    expect(lost.code).toBe('backend')
    expect(lost.message).toMatch(
      /^read: the GPU device was lost \(destroyed.*\); switch to the cpu backend with setBackend\('cpu'\) and resume from the last checkpoint$/,
    )
    expect((await rejection(() => x.matmul(x))).message).toMatch(/^matmul: the GPU device was lost/)
    expect((await rejection(() => tensor([1]))).message).toMatch(/^tensor: the GPU device was lost/)
    expect((await rejection(x.data())).message).toMatch(/^read: the GPU device was lost/)
    expect((await rejection(trainSteps(1))).code).toBe('backend')
    await expect(setBackend('webgpu')).rejects.toThrow(/WebGPU is unavailable: the GPU device given to the engine was lost/)

    expect((await setBackend('cpu')).name).toBe('cpu')
    expect(await trainSteps(2)).toBeGreaterThan(0)
    await useWebGpu()
    await setBackend('webgpu')
    expect(await trainSteps(1)).toBeGreaterThan(0)
  }, 30_000)
})

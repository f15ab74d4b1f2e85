// The WebAssembly SIMD matmul kernel at its edges (1×1, odd m/n/k, k not a multiple of 4, depths
// past one K block, widths past one N block, rows past one M block, transposed operands through
// strides, operands and output at offsets), its memory reuse, and how the CPU backend picks
// between it and the TS kernel (feature detection and the fallback).
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { cpuBackend, cpuMatmulKernel, setCpuMatmulKernel } from '../index.js'
import { loadWasmGemm, wasmApi, WasmGemm } from './wasm-gemm.js'
import { idleHelper } from './wasm-gemm-helper.js'
import { SplitPolicy } from './split-policy.js'

function rand(seed: number): () => number {
  let s = seed >>> 0
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1
}

/**
 * op(A) [m,k] and op(B) [k,n] stored transposed or not, each after `pad` leading junk elements;
 * checks the kernel's product (written after `pad` junk elements of out) against float64 sums.
 */
function check(g: WasmGemm, m: number, k: number, n: number, transA: boolean, transB: boolean, pad = 0): void {
  const r = rand(m * 131 + k * 17 + n + (transA ? 7 : 0) + (transB ? 11 : 0))
  const a = Float32Array.from({ length: pad + m * k }, r)
  const b = Float32Array.from({ length: pad + k * n }, r)
  const [aI, aK] = transA ? [1, m] : [k, 1]
  const [bK, bJ] = transB ? [1, k] : [n, 1]
  const out = new Float32Array(pad + m * n).fill(777)
  g.gemm(m, n, k, a, pad, aI, aK, b, pad, bK, bJ, out, pad)
  for (let t = 0; t < pad; t++) expect(out[t]).toBe(777)
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let want = 0
      let mag = 0
      for (let p = 0; p < k; p++) {
        const v = a[pad + i * aI + p * aK] * b[pad + p * bK + j * bJ]
        want += v
        mag += Math.abs(v)
      }
      const got = out[pad + i * n + j]
      if (!(Math.abs(got - want) <= 1e-6 * mag + 1e-7)) {
        throw new Error(`[${m},${k}]·[${k},${n}] tA=${transA} tB=${transB} pad=${pad}: C(${i},${j}) is ${got}, want ${want}`)
      }
    }
  }
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 3, 1],
  [3, 5, 7],
  [4, 4, 8],
  [5, 9, 11],
  [13, 257, 9],
  [7, 6, 513],
  [131, 33, 17],
  [2, 5000, 3],
  [64, 300, 40],
]

const builds = [
  { name: 'default build, one thread', load: () => loadWasmGemm({ threads: 1 }) },
  { name: 'SIMD128 build (no relaxed SIMD), one thread', load: () => loadWasmGemm({ allowRelaxed: false, threads: 1 }) },
  // Every product of at least two tiles (of rows, or of columns when it is wider) split with the helper thread.
  { name: 'shared-memory build, split with a helper thread', load: () => loadWasmGemm({ threads: 2, splitMinWork: 0, alwaysSplit: true }) },
]

for (const build of builds) {
  describe(`wasm gemm kernel, ${build.name}`, () => {
    const loaded = build.load()
    it('loads in Node', async () => {
      expect(loaded.ok ? loaded.gemm.variant : loaded.reason).toMatch(/simd/)
      const helper = build.name.includes('helper')
      expect(loaded.ok && loaded.gemm.threads).toBe(helper ? 2 : 1)
      // The helper thread starts asynchronously; the products below must really be split.
      if (helper) await vi.waitFor(() => expect(loaded.ok && loaded.gemm.splitting).toBe(true), { timeout: 10_000 })
    })
    const g = (): WasmGemm => {
      if (!loaded.ok) throw new Error(loaded.reason)
      return loaded.gemm
    }
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`edge shapes, transA=${transA} transB=${transB}`, () => {
          for (const [m, k, n] of SHAPES) check(g(), m, k, n, transA, transB)
        })
      }
    }
    it('reads operands and writes the product at offsets', () => {
      check(g(), 9, 13, 10, false, false, 5)
      check(g(), 9, 13, 10, true, true, 3)
    })
    it('keeps its memory across products no larger than the largest so far', () => {
      check(g(), 200, 300, 100, false, false)
      const bytes = g().memoryBytes
      for (let i = 0; i < 3; i++) check(g(), 120, 90, 100, true, false)
      check(g(), 200, 300, 100, false, true)
      expect(g().memoryBytes).toBe(bytes)
    })
    it('reports a product whose operands cannot fit its memory, writing nothing', () => {
      const refusing = {
        buffer: new ArrayBuffer(65536),
        grow: (): number => {
          throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded')
        },
      }
      const kernel = (): void => {
        throw new Error('the kernel must not run')
      }
      const small = new WasmGemm(g().variant, refusing, kernel, kernel, 32768, 32768, 4, 8)
      const out = new Float32Array(64 * 64).fill(5)
      const a = new Float32Array(64 * 64)
      expect(small.gemm(64, 64, 64, a, 0, 64, 1, a, 0, 64, 1, out, 0)).toBe(false)
      expect(out.every((v) => v === 5)).toBe(true)
    })
    it('propagates non-finite values', () => {
      const a = new Float32Array([Number.POSITIVE_INFINITY, 1, 2, 3, 4, 5])
      const b = new Float32Array([1, 1, 1, 1, 1, 1, 1, 1, Number.NaN, 1, 1, 1])
      const out = new Float32Array(8)
      g().gemm(2, 4, 3, a, 0, 3, 1, b, 0, 4, 1, out, 0)
      // Row 0 = [∞, 1, 2]; column 0 of B meets a NaN; padded lanes must not leak into C.
      expect(Array.from(out)).toEqual([Number.NaN, Infinity, Infinity, Infinity, Number.NaN, 12, 12, 12])
    })
  })
}

describe('wasm gemm kernel, relaxed-SIMD (FMA) build', () => {
  // Node 20's V8 ships relaxed SIMD behind a flag (Electron's has it on): run the FMA build in a
  // child process with the flag, on the edge shapes, against float64 sums.
  it('is picked where the runtime validates it, and computes the same products', () => {
    const module = fileURLToPath(new URL('./wasm-gemm.ts', import.meta.url))
    const child = `
      import { loadWasmGemm } from ${JSON.stringify(module)}
      const l = loadWasmGemm({ threads: 1 })
      if (!l.ok) throw new Error(l.reason)
      const shared = loadWasmGemm({ threads: 2 })
      const sharedVariant = shared.ok ? shared.gemm.variant : shared.reason
      let s = 12345
      const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) * 2 - 1
      let worst = 0
      for (const [m, k, n] of ${JSON.stringify(SHAPES)}) for (const tA of [false, true]) for (const tB of [false, true]) {
        const a = Float32Array.from({ length: m * k }, rand), b = Float32Array.from({ length: k * n }, rand)
        const [aI, aK] = tA ? [1, m] : [k, 1], [bK, bJ] = tB ? [1, k] : [n, 1]
        const out = new Float32Array(m * n)
        l.gemm.gemm(m, n, k, a, 0, aI, aK, b, 0, bK, bJ, out, 0)
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
          let want = 0, mag = 0
          for (let p = 0; p < k; p++) { const v = a[i * aI + p * aK] * b[p * bK + j * bJ]; want += v; mag += Math.abs(v) }
          worst = Math.max(worst, Math.abs(out[i * n + j] - want) / (mag + 1e-30))
        }
      }
      console.log(JSON.stringify({ variant: l.gemm.variant, sharedVariant, worst }))
      process.exit(0)`
    const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--import', 'tsx', '--input-type=module', '-e', child], {
      encoding: 'utf8',
      timeout: 50_000,
    })
    if (r.status !== 0)
      throw new Error(
        `child failed (status ${r.status}, signal ${r.signal}, ${r.error?.message ?? 'no spawn error'}): ${r.stderr}\n${r.stdout}`,
      )
    const { variant, sharedVariant, worst } = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      variant: string
      sharedVariant: string
      worst: number
    }
    expect(variant).toBe('relaxed-simd')
    expect(sharedVariant).toBe('relaxed-simd')
    expect(worst).toBeLessThan(1e-6)
  }, 60_000)
})

describe('wasm gemm kernel, two threads', { timeout: 60_000 }, () => {
  afterEach(() => {
    vi.unstubAllGlobals()
  })
  it('splits by rows and by columns with the same result bit for bit as one thread', async () => {
    const one = loadWasmGemm({ threads: 1 })
    const two = loadWasmGemm({ threads: 2, alwaysSplit: true })
    if (!one.ok || !two.ok) throw new Error('the kernel did not load')
    expect(two.gemm.threads).toBe(2)
    await vi.waitFor(() => expect(two.gemm.splitting).toBe(true), { timeout: 10_000 })
    const r = rand(3)
    // Tall (chunks of rows), a batch of 32 against a wide B (chunks of columns, B read transposed too).
    for (const [m, k, n, transB] of [
      [260, 256, 257, false],
      [32, 300, 1030, false],
      [32, 300, 1030, true],
    ] as const) {
      const a = Float32Array.from({ length: m * k }, r)
      const b = Float32Array.from({ length: k * n }, r)
      const [bK, bJ] = transB ? [1, k] : [n, 1]
      const want = new Float32Array(m * n)
      const got = new Float32Array(m * n)
      one.gemm.gemm(m, n, k, a, 0, k, 1, b, 0, bK, bJ, want, 0)
      two.gemm.gemm(m, n, k, a, 0, k, 1, b, 0, bK, bJ, got, 0)
      expect(got, `[${m},${k}]·[${k},${n}] transB=${transB}`).toEqual(want)
    }
  })
  it('a helper that never picks up its chunks costs no wait: the calling thread takes them all', () => {
    const one = loadWasmGemm({ threads: 1 })
    const two = loadWasmGemm({ threads: 2 })
    if (!one.ok || !two.ok) throw new Error('the kernel did not load')
    const idle = idleHelper()
    const run = vi.spyOn(idle, 'run')
    Object.assign(two.gemm, { helper: idle, policy: new SplitPolicy(true) })
    const r = rand(5)
    const [m, k, n] = [300, 200, 260]
    const a = Float32Array.from({ length: m * k }, r)
    const b = Float32Array.from({ length: k * n }, r)
    const want = new Float32Array(m * n)
    const got = new Float32Array(m * n)
    one.gemm.gemm(m, n, k, a, 0, k, 1, b, 0, n, 1, want, 0)
    two.gemm.gemm(m, n, k, a, 0, k, 1, b, 0, n, 1, got, 0)
    expect(got).toEqual(want)
    expect(run).toHaveReturnedWith(0) // chunks the helper did
  })
  it('runs the products it keeps on the calling thread on an unshared memory, and splits on the shared one', async () => {
    const one = loadWasmGemm({ threads: 1 })
    const two = loadWasmGemm({ threads: 2, splitMinWork: 0 })
    if (!one.ok || !two.ok) throw new Error('the kernel did not load')
    await vi.waitFor(() => expect(two.gemm.splitting).toBe(true), { timeout: 10_000 })
    const inline = two.gemm['inline']!
    expect(inline['memory'].buffer).not.toBeInstanceOf(SharedArrayBuffer)
    expect(two.gemm['memory'].buffer).toBeInstanceOf(SharedArrayBuffer)
    const onInline = vi.spyOn(inline, 'gemm')
    const r = rand(7)
    const [m, k, n] = [96, 80, 72]
    const a = Float32Array.from({ length: m * k }, r)
    const b = Float32Array.from({ length: k * n }, r)
    const want = new Float32Array(m * n)
    one.gemm.gemm(m, n, k, a, 0, k, 1, b, 0, n, 1, want, 0)
    // The policy measures both ways of this shape, then keeps the cheaper: both ways ran, each exactly.
    const policy = vi.spyOn(two.gemm.policy, 'choose')
    for (let i = 0; i < 40; i++) {
      const got = new Float32Array(m * n)
      two.gemm.gemm(m, n, k, a, 0, k, 1, b, 0, n, 1, got, 0)
      expect(got).toEqual(want)
    }
    const kept = policy.mock.results.filter((x) => x.value === false).length
    expect(kept).toBeGreaterThan(0)
    expect(kept).toBeLessThan(40)
    expect(onInline).toHaveBeenCalledTimes(kept)
  })
  it('stays on one thread where SharedArrayBuffer is missing (a renderer without COOP/COEP)', () => {
    vi.stubGlobal('SharedArrayBuffer', undefined)
    const l = loadWasmGemm({ threads: 2 })
    expect(l.ok && l.gemm.threads).toBe(1)
    if (l.ok) check(l.gemm, 67, 300, 129, true, false)
  })
})

describe('cpu matmul kernel selection', () => {
  const before = cpuMatmulKernel().choice
  afterEach(() => {
    vi.restoreAllMocks()
    setCpuMatmulKernel(before)
  })
  const product = (): number[] => {
    const a = cpuBackend.fromArray(Float32Array.from({ length: 40 * 30 }, (_, i) => (i % 7) - 3))
    const b = cpuBackend.fromArray(Float32Array.from({ length: 30 * 20 }, (_, i) => (i % 5) - 2))
    return Array.from(
      cpuBackend.readSync(
        cpuBackend.matmul(a, b, { aShape: [40, 30], bShape: [30, 20], transA: false, transB: false, outShape: [40, 20] }),
      ),
    )
  }

  it("'auto' picks the WebAssembly kernel where it loads, and both kernels agree exactly on integers", () => {
    expect(setCpuMatmulKernel('auto').kernel).toMatch(/^wasm-/)
    const wasm = product()
    expect(setCpuMatmulKernel('ts').kernel).toBe('ts')
    expect(product()).toEqual(wasm)
  })

  it('feature detection: a runtime without SIMD128 gets the reason, and auto falls back to TS', () => {
    vi.spyOn(wasmApi()!, 'validate').mockReturnValue(false)
    const detected = loadWasmGemm()
    expect(detected).toEqual({ ok: false, reason: 'this runtime does not support WebAssembly SIMD128' })
    const info = setCpuMatmulKernel('auto', () => detected)
    expect(info).toEqual({ choice: 'auto', kernel: 'ts', threads: 1, reason: 'this runtime does not support WebAssembly SIMD128' })
    vi.restoreAllMocks()
    const fallback = product()
    setCpuMatmulKernel('auto')
    expect(fallback).toEqual(product())
  })

  it("'wasm' where the kernel cannot load throws naming why, and keeps the previous choice", () => {
    setCpuMatmulKernel('ts')
    const failing = () => ({ ok: false as const, reason: 'WebAssembly instantiation failed: CSP forbids it' })
    expect(() => setCpuMatmulKernel('wasm', failing)).toThrow(/unavailable: WebAssembly instantiation failed: CSP forbids it/)
    expect(cpuMatmulKernel().choice).toBe('ts')
  })

  it('BPS_CPU_MATMUL chooses the kernel when the backend loads, and refuses unknown values', async () => {
    try {
      vi.stubEnv('BPS_CPU_MATMUL', 'ts')
      vi.resetModules()
      const fresh = await import('../matmul.js')
      expect(fresh.cpuMatmulKernel()).toEqual({ choice: 'ts', kernel: 'ts', threads: 1, reason: 'TS kernel chosen' })
      vi.stubEnv('BPS_CPU_MATMUL', 'fast')
      vi.resetModules()
      await expect(import('../matmul.js')).rejects.toThrow('BPS_CPU_MATMUL=fast: expected auto, wasm or ts')
    } finally {
      vi.unstubAllEnvs()
      vi.resetModules()
    }
  })

  it('rejects an unknown kernel name', () => {
    expect(() => setCpuMatmulKernel('gpu' as never)).toThrow(/unknown kernel "gpu"/)
  })
})

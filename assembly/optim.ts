// AssemblyScript source of the CPU backend's fused Adam update on float32 (WebAssembly SIMD128),
// built by scripts/build-wasm.mjs beside the matmul kernel. The host (wasm-optim.ts) stages one
// chunk of p, g, m, v at a time into the imported memory and copies the results back, so the
// chunk stays in cache. Every operation rounds to float32 in the order of the composed update
// in optim/optimizers.ts (no fused multiply-add; division as a reciprocal and a product, as the
// composed div is), so the result is that update's to the last bit or so;
// four lanes of sqrt and division are what make it several times faster than the float64 JS loop.

/**
 * One Adam step over `n` floats (a multiple of 4) at p, g, m, v, updated in place:
 *   gg = g + p·l2 (when l2 ≠ 0);  q = p·decay (when decay ≠ 1)
 *   m  = m·b1 + gg·c1;  v = v·b2 + (gg·gg)·c2
 *   p  = q − (m·(1 / (sqrt(v)·invSqrtBc2 + eps)))·stepSize   (div is mul by pow(·, −1) there)
 */
export function adam(
  n: i32,
  p: usize, g: usize, m: usize, v: usize,
  b1: f32, c1: f32, b2: f32, c2: f32,
  l2: f32, decay: f32, invSqrtBc2: f32, eps: f32, stepSize: f32,
): void {
  const vb1 = f32x4.splat(b1), vc1 = f32x4.splat(c1)
  const vb2 = f32x4.splat(b2), vc2 = f32x4.splat(c2)
  const vl2 = f32x4.splat(l2), vdecay = f32x4.splat(decay)
  const one = f32x4.splat(1)
  const vinv = f32x4.splat(invSqrtBc2), veps = f32x4.splat(eps), vstep = f32x4.splat(stepSize)
  const useL2 = l2 != 0
  const useDecay = decay != 1
  const end = <usize>n << 2
  for (let o: usize = 0; o < end; o += 16) {
    const pv = v128.load(p + o)
    let gg = v128.load(g + o)
    if (useL2) gg = f32x4.add(gg, f32x4.mul(pv, vl2))
    const q = useDecay ? f32x4.mul(pv, vdecay) : pv
    const mv = f32x4.add(f32x4.mul(v128.load(m + o), vb1), f32x4.mul(gg, vc1))
    const vv = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(f32x4.mul(gg, gg), vc2))
    v128.store(m + o, mv)
    v128.store(v + o, vv)
    const denom = f32x4.add(f32x4.mul(f32x4.sqrt(vv), vinv), veps)
    v128.store(p + o, f32x4.sub(q, f32x4.mul(f32x4.mul(mv, f32x4.div(one, denom)), vstep)))
  }
}

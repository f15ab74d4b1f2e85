// Matmul: C = op(A)·op(B) with batch dims broadcast. Large products are tiled: a 16×16 workgroup
// computes a (16·T)² tile of C, T×T outputs per thread, staging K in slices of 16 through
// workgroup memory; small ones use one thread per output. Transposed operands are read in
// place (only the index math changes); tile edges are zero-padded on load, so any M, N, K works
// (1, primes, non-multiples of the tile).
import type { MatmulArgs } from '../backend.js'
import { broadcastStrides, sizeOf } from '../../shape.js'
import { GpuStorage } from './pool.js'
import type { GpuRuntime } from './runtime.js'
import { bufferOf, coalesce } from './elementwise.js'
import { ENTRY, groupsFor, header } from './wgsl.js'

const BK = 16

function source(t: number, transA: boolean, transB: boolean): string {
  const bm = 16 * t
  const idx = [...Array(t).keys()]
  const cells = idx.flatMap((r) => idx.map((c) => [r, c]))
  return `${header(['a', 'b'])}
var<workgroup> As: array<f32, ${BK * bm}>;
var<workgroup> Bs: array<f32, ${BK * bm}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) l3: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = wid.y * nwg.x + wid.x;
  let M = md[0];
  let N = md[1];
  let K = md[2];
  let tilesN = md[3];
  let tilesM = md[4];
  if (w >= tilesN * tilesM * md[5]) { return; }
  let bt = w / (tilesN * tilesM);
  let row0 = ((w / tilesN) % tilesM) * ${bm}u;
  let col0 = (w % tilesN) * ${bm}u;
  let lda = md[6];
  let ldb = md[7];
  let nbd = md[8];
  var offA = 0u;
  var offB = 0u;
  var rem = bt;
  for (var d = nbd; d > 0u; d = d - 1u) {
    let k = d - 1u;
    let c = rem % md[12u + k];
    rem = rem / md[12u + k];
    offA = offA + c * md[12u + nbd + k];
    offB = offB + c * md[12u + 2u * nbd + k];
  }
${cells.map(([r, c]) => `  var acc${r}_${c} = 0.0;`).join('\n')}
  for (var k0 = 0u; k0 < K; k0 = k0 + ${BK}u) {
    // consecutive threads load consecutive addresses of whichever layout A and B have
    for (var l = lid; l < ${bm * BK}u; l = l + 256u) {
      ${transA ? `let mm = l % ${bm}u; let kk = l / ${bm}u;` : `let kk = l % ${BK}u; let mm = l / ${BK}u;`}
      let gm = row0 + mm;
      let gk = k0 + kk;
      var v = 0.0;
      if (gm < M && gk < K) { v = a[offA + ${transA ? 'gk * lda + gm' : 'gm * lda + gk'}]; }
      As[kk * ${bm}u + mm] = v;
      ${transB ? `let kb = l % ${BK}u; let nn = l / ${BK}u;` : `let nn = l % ${bm}u; let kb = l / ${bm}u;`}
      let gn = col0 + nn;
      let gkb = k0 + kb;
      var u = 0.0;
      if (gn < N && gkb < K) { u = b[offB + ${transB ? 'gn * ldb + gkb' : 'gkb * ldb + gn'}]; }
      Bs[kb * ${bm}u + nn] = u;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${BK}u; kk = kk + 1u) {
${idx.map((r) => `      let a${r} = As[kk * ${bm}u + l3.y + ${16 * r}u];`).join('\n')}
${idx.map((c) => `      let b${c} = Bs[kk * ${bm}u + l3.x + ${16 * c}u];`).join('\n')}
${cells.map(([r, c]) => `      acc${r}_${c} = acc${r}_${c} + a${r} * b${c};`).join('\n')}
    }
    workgroupBarrier();
  }
  let offC = bt * M * N;
${cells.map(([r, c]) => `  if (row0 + l3.y + ${16 * r}u < M && col0 + l3.x + ${16 * c}u < N) { out[offC + (row0 + l3.y + ${16 * r}u) * N + col0 + l3.x + ${16 * c}u] = acc${r}_${c}; }`).join('\n')}
}
`
}

// Small products: one thread per output, no workgroup memory. Barriers and tile loads only pay
// off once a tile is reused many times (and on SwiftShader each barrier is very costly).
function directSource(transA: boolean, transB: boolean): string {
  return `${header(['a', 'b'])}
${ENTRY}
  let M = md[0];
  let N = md[1];
  let K = md[2];
  if (t >= md[5] * M * N) { return; }
  let lda = md[6];
  let ldb = md[7];
  let nbd = md[8];
  let col = t % N;
  let row = (t / N) % M;
  var offA = 0u;
  var offB = 0u;
  var rem = t / (M * N);
  for (var d = nbd; d > 0u; d = d - 1u) {
    let k = d - 1u;
    let c = rem % md[12u + k];
    rem = rem / md[12u + k];
    offA = offA + c * md[12u + nbd + k];
    offB = offB + c * md[12u + 2u * nbd + k];
  }
  var pa = offA + ${transA ? 'row' : 'row * lda'};
  var pb = offB + ${transB ? 'col * ldb' : 'col'};
  var acc = 0.0;
  for (var k = 0u; k < K; k = k + 1u) {
    acc = acc + a[pa] * b[pb];
    pa = pa + ${transA ? 'lda' : '1u'};
    pb = pb + ${transB ? '1u' : 'ldb'};
  }
  out[t] = acc;
}
`
}

/**
 * Outputs per thread (T×T): big tiles reuse more of each load, small ones keep more workgroups
 * in flight; pick the biggest that still gives `minGroups` workgroups.
 */
function microTile(m: number, n: number, batches: number, minGroups: number): number {
  for (const t of [4, 2]) {
    if (Math.ceil(m / (16 * t)) * Math.ceil(n / (16 * t)) * batches >= minGroups) return t
  }
  return 1
}

export function matmul(rt: GpuRuntime, a: GpuStorage, b: GpuStorage, args: MatmulArgs): GpuStorage {
  const { aShape, bShape, transA, transB, outShape } = args
  const ra = aShape.length
  const rb = bShape.length
  const m = outShape[outShape.length - 2]
  const n = outShape[outShape.length - 1]
  const k = transA ? aShape[ra - 2] : aShape[ra - 1]
  const size = sizeOf(outShape)
  if (size === 0) return new GpuStorage(0, null)
  if (k === 0) return new GpuStorage(size, null, 0)
  const batchShape = outShape.slice(0, -2)
  const batches = sizeOf(batchShape)
  const aMat = aShape[ra - 2] * aShape[ra - 1]
  const bMat = bShape[rb - 2] * bShape[rb - 1]
  const dims = coalesce(batchShape, [
    broadcastStrides(aShape.slice(0, -2), batchShape).map((s) => s * aMat),
    broadcastStrides(bShape.slice(0, -2), batchShape).map((s) => s * bMat),
  ])
  const inputs = [bufferOf(rt, a, 'matmul'), bufferOf(rt, b, 'matmul')]
  const out = rt.pool.storage(size)
  const flags = `${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`
  const batchMeta = [dims.shape.length, 0, 0, 0, ...dims.shape, ...dims.strides[0], ...dims.strides[1]]
  if (size * k <= rt.tuning.matmulDirectMaxMacs) {
    const meta = [m, n, k, 0, 0, batches, aShape[ra - 1], bShape[rb - 1], ...batchMeta]
    rt.dispatch(
      rt.pipeline(`matmul-direct:${flags}`, 2, () => directSource(transA, transB)),
      inputs,
      out.rec!,
      meta,
      groupsFor(size),
    )
    return out
  }
  const t = rt.tuning.matmulTile || microTile(m, n, batches, rt.tuning.matmulMinWorkgroups)
  const tilesM = Math.ceil(m / (16 * t))
  const tilesN = Math.ceil(n / (16 * t))
  const meta = [m, n, k, tilesN, tilesM, batches, aShape[ra - 1], bShape[rb - 1], ...batchMeta]
  const pipeline = rt.pipeline(`matmul:${t}:${flags}`, 2, () => source(t, transA, transB))
  rt.dispatch(pipeline, inputs, out.rec!, meta, tilesM * tilesN * batches)
  return out
}

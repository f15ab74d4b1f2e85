// BatchNorm and LayerNorm on the GPU: one workgroup per statistic (a feature's column for
// batchNorm, a row for layerNorm) reduces in workgroup memory, then writes its own outputs, so the
// forward is one kernel and the backward one (batchNorm) or two (layerNorm, whose weight and bias
// sums run down the columns: one thread per feature). Sums are f32, in the tree order of reduce.ts.
import type { NormArgs, NormOp, RunningStatsStep } from '../backend.js'
import { GpuStorage, type BufRec } from './pool.js'
import { f32bits, type GpuRuntime } from './runtime.js'
import { bufferOf, contiguousOver, map, type MapKernel } from './elementwise.js'
import { ENTRY, WG, groupsFor, header } from './wgsl.js'

// meta: rows, features, eps (f32 bits). Element k of workgroup w's group is x[base + k·stride], and
// `n` is the group's length: rows down a column (batchNorm) or features along a row (layerNorm).
// FEATURE names the per-feature index (the weight's) of that element.
const VIEW: Record<NormOp, string> = {
  batchNorm: `  let groups = md[1];
  let n = md[0];
  if (w >= groups) { return; }
  let base = w;
  let stride = md[1];`,
  layerNorm: `  let groups = md[0];
  let n = md[1];
  if (w >= groups) { return; }
  let base = w * md[1];
  let stride = 1u;`,
}
const FEATURE: Record<NormOp, string> = { batchNorm: 'w', layerNorm: 'k' }

// Two sums at once, 16×16 like reduce.ts's tree; every thread gets the totals.
const SUM2 = `var<workgroup> part: array<vec2f, ${WG}>;
fn sum2(v: vec2f, lid: u32) -> vec2f {
  part[lid] = v;
  workgroupBarrier();
  if (lid < 16u) {
    var r = part[lid * 16u];
    for (var j = 1u; j < 16u; j = j + 1u) { r = r + part[lid * 16u + j]; }
    part[lid * 16u] = r;
  }
  workgroupBarrier();
  var r = part[0];
  for (var j = 1u; j < 16u; j = j + 1u) { r = r + part[j * 16u]; }
  workgroupBarrier();
  return r;
}`

function forwardSource(op: NormOp): string {
  const f = FEATURE[op]
  return `${header(['x', 'g', 'b'], 'f32', undefined, ['out', 'mean', 'vr'])}
${SUM2}
${ENTRY}
${VIEW[op]}
  let eps = bitcast<f32>(md[2]);
  var s = vec2f(0.0);
  for (var k = lid; k < n; k = k + ${WG}u) { s.x = s.x + x[base + k * stride]; }
  let mu = sum2(s, lid).x / f32(n);
  s = vec2f(0.0);
  for (var k = lid; k < n; k = k + ${WG}u) {
    let d = x[base + k * stride] - mu;
    s.x = s.x + d * d;
  }
  let v = sum2(s, lid).x / f32(n);
  let istd = 1.0 / sqrt(v + eps);
  for (var k = lid; k < n; k = k + ${WG}u) {
    let i = base + k * stride;
    out[i] = (x[i] - mu) * istd * g[${f}] + b[${f}];
  }
  if (lid == 0u) {
    mean[w] = mu;
    vr[w] = v;
  }
}
`
}

// dx for the group: with dx̂ = dy·g, dx = invstd/n·(n·dx̂ − Σdx̂ − x̂·Σdx̂·x̂). batchNorm also keeps its
// column's Σdy and Σdy·x̂ (the bias and weight gradients) in `sums`, split by SPLIT_SUMS: nine
// bindings would pass the 8 storage buffers per stage that WebGPU guarantees.
function backwardSource(op: NormOp): string {
  const d = op === 'layerNorm' ? 'dy[i] * g[k]' : 'dy[i]'
  const outputs = op === 'batchNorm' ? ['dx', 'sums'] : ['dx']
  return `${header(['dy', 'x', 'mean', 'vr', 'g'], 'f32', undefined, outputs)}
${SUM2}
${ENTRY}
${VIEW[op]}
  let eps = bitcast<f32>(md[2]);
  let mu = mean[w];
  let istd = 1.0 / sqrt(vr[w] + eps);
  var s = vec2f(0.0);
  for (var k = lid; k < n; k = k + ${WG}u) {
    let i = base + k * stride;
    let d = ${d};
    s = s + vec2f(d, d * (x[i] - mu) * istd);
  }
  let tot = sum2(s, lid);
  let scale = istd / f32(n)${op === 'batchNorm' ? ' * g[w]' : ''};
  for (var k = lid; k < n; k = k + ${WG}u) {
    let i = base + k * stride;
    dx[i] = scale * (f32(n) * ${d} - tot.x - (x[i] - mu) * istd * tot.y);
  }
${op === 'batchNorm' ? '  if (lid == 0u) {\n    sums[2u * w] = tot.x;\n    sums[2u * w + 1u] = tot.y;\n  }\n' : ''}}
`
}

const SPLIT_SUMS = `${header(['sums'], 'f32', undefined, ['dg', 'db'])}
${ENTRY}
  if (t >= md[1]) { return; }
  db[t] = sums[2u * t];
  dg[t] = sums[2u * t + 1u];
}
`

// layerNorm's weight and bias gradients: one thread per feature sums dy·x̂ and dy down its column.
const LAYER_PARAM_GRADS = `${header(['dy', 'x', 'mean', 'vr'], 'f32', undefined, ['dg', 'db'])}
${ENTRY}
  let rows = md[0];
  let features = md[1];
  let eps = bitcast<f32>(md[2]);
  if (t >= features) { return; }
  var sg = 0.0;
  var sb = 0.0;
  for (var r = 0u; r < rows; r = r + 1u) {
    let i = r * features + t;
    sg = sg + dy[i] * (x[i] - mean[r]) / sqrt(vr[r] + eps);
    sb = sb + dy[i];
  }
  dg[t] = sg;
  db[t] = sb;
}
`

/** A per-feature operand's buffer; a missing weight or bias reads as a constant 1 or 0. */
function perFeature(rt: GpuRuntime, s: GpuStorage | null, features: number, fill: number, op: NormOp): BufRec {
  return bufferOf(rt, s ?? new GpuStorage(features, null, fill), op)
}

function metaOf(a: NormArgs): number[] {
  return [a.rows, a.features, f32bits(a.eps)]
}

export function norm(rt: GpuRuntime, op: NormOp, x: GpuStorage, weight: GpuStorage | null, bias: GpuStorage | null, a: NormArgs) {
  const groups = op === 'batchNorm' ? a.features : a.rows
  const out = rt.pool.storage(x.size)
  const mean = rt.pool.storage(groups)
  const variance = rt.pool.storage(groups)
  if (out.rec && mean.rec) {
    const inputs = [bufferOf(rt, x, op), perFeature(rt, weight, a.features, 1, op), perFeature(rt, bias, a.features, 0, op)]
    const pipeline = rt.pipeline(`norm:${op}`, 3, () => forwardSource(op), 3)
    rt.dispatch(pipeline, inputs, [out.rec, mean.rec, variance.rec!], metaOf(a), groups)
  }
  return { out, mean, variance }
}

export function normGrad(
  rt: GpuRuntime,
  op: NormOp,
  dy: GpuStorage,
  x: GpuStorage,
  mean: GpuStorage,
  variance: GpuStorage,
  weight: GpuStorage | null,
  a: NormArgs,
) {
  const dx = rt.pool.storage(x.size)
  const dweight = rt.pool.storage(a.features)
  const dbias = rt.pool.storage(a.features)
  if (!dx.rec || !dweight.rec) return { dx, dweight, dbias }
  const stats = [bufferOf(rt, dy, op), bufferOf(rt, x, op), bufferOf(rt, mean, op), bufferOf(rt, variance, op)]
  const inputs = [...stats, perFeature(rt, weight, a.features, 1, op)]
  if (op === 'batchNorm') {
    const sums = rt.pool.acquire(2 * a.features * 4)
    rt.dispatch(
      rt.pipeline('norm-grad:batchNorm', 5, () => backwardSource(op), 2),
      inputs,
      [dx.rec, sums],
      metaOf(a),
      a.features,
    )
    rt.dispatch(
      rt.pipeline('norm-grad:split-sums', 1, () => SPLIT_SUMS, 2),
      [sums],
      [dweight.rec, dbias.rec!],
      metaOf(a),
      groupsFor(a.features),
    )
    rt.pool.release(sums) // scratch: later kernels may reuse it, queued after these
  } else {
    rt.dispatch(
      rt.pipeline('norm-grad:layerNorm', 5, () => backwardSource(op), 1),
      inputs,
      dx.rec,
      metaOf(a),
      a.rows,
    )
    const params = rt.pipeline('norm-grad:layerNorm-params', 4, () => LAYER_PARAM_GRADS, 2)
    rt.dispatch(params, stats, [dweight.rec, dbias.rec!], metaOf(a), groupsFor(a.features))
  }
  return { dx, dweight, dbias }
}

// Each product rounded to f32 before the sum, as the composed update (mul, mul, add) rounds it.
const RUNNING_STATS: MapKernel = {
  name: 'running-stats',
  vars: ['rm', 'rv', 'm', 'v'],
  params: ['keep', 'mom', 'vmom'],
  outputs: ['rm * keep + m * mom', 'rv * keep + v * vmom'],
}

/** BatchNorm's running mean and variance moved towards the batch's, both in one kernel. */
export function runningStats(rt: GpuRuntime, rm: GpuStorage, rv: GpuStorage, m: GpuStorage, v: GpuStorage, o: RunningStatsStep) {
  const params = [o.keep, o.momentum, o.varianceMomentum]
  const [mean, variance] = map(rt, RUNNING_STATS, [rm, rv, m, v].map(contiguousOver), [rm.size], params)
  return { mean, variance }
}

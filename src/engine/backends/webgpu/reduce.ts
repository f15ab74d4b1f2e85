// Reductions along one axis, viewing the tensor as [outer, n, inner] (like the CPU backend).
// Long contiguous rows (inner == 1, all-reduce): one workgroup per row tree-reduces in workgroup
// memory; otherwise one thread per output walks its row or column (softmax over classes, bias
// gradients over a batch). Long axes with few outputs are split into
// chunks reduced in a second pass, so a 10M-element sum still spreads over the whole GPU.
import type { ReduceOp, Shape } from '../backend.js'
import { sizeOf } from '../../shape.js'
import { GpuStorage, type BufRec } from './pool.js'
import type { GpuRuntime } from './runtime.js'
import { bufferOf } from './elementwise.js'
import { ENTRY, MATH, WG, groupsFor, header } from './wgsl.js'

function split(shape: Shape, axis: number): [number, number, number] {
  let outer = 1
  let inner = 1
  for (let i = 0; i < axis; i++) outer *= shape[i]
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]
  return [outer, shape[axis], inner]
}

/** Identity and combine; max propagates NaN like the CPU backend (WGSL's max need not). */
const COMBINE: Record<ReduceOp, { init: string; fn: string }> = {
  sum: { init: '0.0', fn: 'fn comb(x: f32, y: f32) -> f32 { return x + y; }' },
  max: { init: '-inf_()', fn: 'fn comb(x: f32, y: f32) -> f32 { return select(max(x, y), nan_(), isnan_(x) || isnan_(y)); }' },
}

// meta: outer, n, chunks, chunkLen, inner. Output element (o, c, i) reduces k in chunk c.
function treeSource(op: ReduceOp): string {
  return `${header(['a'])}
${MATH}
${COMBINE[op].fn}
var<workgroup> part: array<f32, ${WG}>;
${ENTRY}
  let n = md[1];
  let chunks = md[2];
  if (w >= md[0] * chunks) { return; }
  let o = w / chunks;
  let start = (w % chunks) * md[3];
  let end = min(n, start + md[3]);
  var acc = ${COMBINE[op].init};
  for (var k = start + lid; k < end; k = k + ${WG}u) { acc = comb(acc, a[o * n + k]); }
  part[lid] = acc;
  // Two levels of 16 instead of an 8-level tree: barriers, not adds, are the cost here.
  workgroupBarrier();
  if (lid < 16u) {
    var r = part[lid * 16u];
    for (var j = 1u; j < 16u; j = j + 1u) { r = comb(r, part[lid * 16u + j]); }
    part[lid * 16u] = r;
  }
  workgroupBarrier();
  if (lid == 0u) {
    var r = part[0];
    for (var j = 1u; j < 16u; j = j + 1u) { r = comb(r, part[j * 16u]); }
    out[w] = r;
  }
}
`
}

function columnSource(op: ReduceOp): string {
  return `${header(['a'])}
${MATH}
${COMBINE[op].fn}
${ENTRY}
  let n = md[1];
  let chunks = md[2];
  let inner = md[4];
  if (t >= md[0] * chunks * inner) { return; }
  let oc = t / inner;
  let start = (oc % chunks) * md[3];
  let end = min(n, start + md[3]);
  var p = ((oc / chunks) * n + start) * inner + t % inner;
  var acc = ${COMBINE[op].init};
  for (var k = start; k < end; k = k + 1u) {
    acc = comb(acc, a[p]);
    p = p + inner;
  }
  out[t] = acc;
}
`
}

/** Reduce [outer, n, inner] over n into `out` (outer·inner floats), in chunks when it pays. */
function reduceView(rt: GpuRuntime, op: ReduceOp, src: BufRec, outer: number, n: number, inner: number, out: BufRec): void {
  const tree = inner === 1 && n >= rt.tuning.reduceTreeMinLength
  let chunkLen = n
  if (tree && outer < 128 && n > 8192) chunkLen = 4096
  else if (!tree && outer * inner < 8192 && n > 256) chunkLen = Math.max(64, Math.ceil(n / Math.ceil(8192 / (outer * inner))))
  const chunks = Math.max(1, Math.ceil(n / Math.max(1, chunkLen)))
  const dst = chunks === 1 ? out : rt.pool.acquire(outer * chunks * inner * 4)
  const meta = [outer, n, chunks, chunkLen, inner]
  if (tree) {
    rt.dispatch(
      rt.pipeline(`reduce-tree:${op}`, 1, () => treeSource(op)),
      [src],
      dst,
      meta,
      outer * chunks,
    )
  } else {
    rt.dispatch(
      rt.pipeline(`reduce-col:${op}`, 1, () => columnSource(op)),
      [src],
      dst,
      meta,
      groupsFor(outer * chunks * inner),
    )
  }
  if (chunks > 1) {
    reduceView(rt, op, dst, outer, chunks, inner, out)
    rt.pool.release(dst) // scratch: later kernels may reuse it, queued after these
  }
}

export function reduce(rt: GpuRuntime, op: ReduceOp, a: GpuStorage, shape: Shape, axis: number): GpuStorage {
  const [outer, n, inner] = split(shape, axis)
  if (a.constant !== null) {
    const v = op === 'sum' ? Math.fround(a.constant * n) : a.constant
    return new GpuStorage(outer * inner, null, v)
  }
  if (outer * inner === 0) return new GpuStorage(0, null)
  if (n === 0) return new GpuStorage(outer * inner, null, 0) // only sum gets here: max rejects empty axes
  const out = rt.pool.storage(outer * inner)
  reduceView(rt, op, bufferOf(rt, a, op), outer, n, inner, out.rec!)
  return out
}

// Pass 1: per output, the index of the first maximum (a strict > scan, as on the CPU).
const ARGMAX = `${header(['a'], 'u32')}
${ENTRY}
  let n = md[1];
  let inner = md[2];
  if (t >= md[0] * inner) { return; }
  var p = (t / inner) * n * inner + t % inner;
  var best = 0u;
  var m = a[p];
  for (var k = 1u; k < n; k = k + 1u) {
    p = p + inner;
    let v = a[p];
    if (v > m) { m = v; best = k; }
  }
  out[t] = best;
}
`

// Pass 2: every element, 1 where its index along the axis is its column's argmax.
const ONE_HOT = `${header(['idx'], 'f32', ['u32'])}
${ENTRY}
  let n = md[1];
  let inner = md[2];
  if (t >= md[0] * n * inner) { return; }
  let i = t % inner;
  let r = t / inner;
  out[t] = select(0.0, 1.0, idx[(r / n) * inner + i] == r % n);
}
`

export function argmaxOneHot(rt: GpuRuntime, a: GpuStorage, shape: Shape, axis: number): GpuStorage {
  const [outer, n, inner] = split(shape, axis)
  const out = rt.pool.storage(sizeOf(shape))
  if (!out.rec) return out
  const src = bufferOf(rt, a, 'max')
  const idx = rt.pool.acquire(outer * inner * 4)
  const meta = [outer, n, inner]
  rt.dispatch(
    rt.pipeline('argmax', 1, () => ARGMAX),
    [src],
    idx,
    meta,
    groupsFor(outer * inner),
  )
  rt.dispatch(
    rt.pipeline('one-hot', 1, () => ONE_HOT),
    [idx],
    out.rec,
    meta,
    groupsFor(outer * n * inner),
  )
  rt.pool.release(idx)
  return out
}

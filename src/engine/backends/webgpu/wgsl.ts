// WGSL shared by the kernel families: the binding header every kernel uses (inputs, output,
// metadata), the workgroup-id prelude for 2-D grids, and scalar math WGSL lacks or leaves
// undefined (NaN tests, log of 0, pow of negative bases, erf).

export const WG = 256

/**
 * Bindings in the order GpuRuntime.dispatch binds them: inputs (read-only), outputs, metadata.
 * `types` gives each input's element type.
 */
export function header(
  inputs: readonly string[],
  outType = 'f32',
  types: readonly string[] = inputs.map(() => 'f32'),
  outputs: readonly string[] = ['out'],
): string {
  const lines = inputs.map((name, i) => `@group(0) @binding(${i}) var<storage, read> ${name}: array<${types[i]}>;`)
  outputs.forEach((name, i) => lines.push(`@group(0) @binding(${inputs.length + i}) var<storage, read_write> ${name}: array<${outType}>;`))
  lines.push(`@group(0) @binding(${inputs.length + outputs.length}) var<storage, read> md: array<u32>;`)
  return lines.join('\n')
}

/** Entry point with the linear workgroup id `w` and thread id `t` (workgroup size WG). */
export const ENTRY = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = wid.y * nwg.x + wid.x;
  let t = w * ${WG}u + lid;`

/** The number of workgroups for `threads` threads. */
export function groupsFor(threads: number): number {
  return Math.ceil(threads / WG)
}

export const MATH = /* wgsl */ `
// Runtime values: a constant expression may not be NaN or infinite in WGSL.
var<private> NAN_BITS: u32 = 0x7fc00000u;
var<private> INF_BITS: u32 = 0x7f800000u;
fn nan_() -> f32 { return bitcast<f32>(NAN_BITS); }
fn inf_() -> f32 { return bitcast<f32>(INF_BITS); }
// A bit test: comparisons with NaN may be folded away by shader compilers.
fn isnan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }

fn log_(x: f32) -> f32 {
  if (x > 0.0) { return log(x); }
  if (x == 0.0) { return -inf_(); }
  return nan_();
}

fn sigmoid_(x: f32) -> f32 {
  // exp of a non-positive number never overflows
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

// Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, at float32 resolution.
fn erf_(x: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.3275911 * abs(x));
  let poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
  let y = 1.0 - poly * exp(-x * x);
  return select(-y, y, x >= 0.0);
}

// WGSL's pow is undefined for negative bases; JavaScript's Math.pow is the reference.
// div is x * y^-1 in the frontend, so y = -1 must be exact for every x.
fn pow_(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (isnan_(x) || isnan_(y)) { return nan_(); }
  if (y == 1.0) { return x; }
  if (y == 2.0) { return x * x; }
  if (y == -1.0) { return 1.0 / x; }
  if (y == 0.5) { return select(sqrt(x), nan_(), x < 0.0); }
  let yInt = floor(y) == y;
  let yOdd = yInt && abs(y) < 16777216.0 && (i32(y) & 1) == 1;
  if (x == 0.0) {
    let r = select(0.0, inf_(), y < 0.0);
    // -0 to an odd power keeps its sign
    return select(r, -r, yOdd && (bitcast<u32>(x) & 0x80000000u) != 0u);
  }
  let r = exp2(y * log2(abs(x)));
  if (x < 0.0) {
    if (!yInt) { return nan_(); }
    return select(r, -r, yOdd);
  }
  return r;
}
`

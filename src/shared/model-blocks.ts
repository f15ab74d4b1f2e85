// The per-layer extras of the gradient-flow lab, as rules both sides apply (the host builds the
// model from them, the form previews them): normalisation (BatchNorm1d or LayerNorm), dropout and a
// residual connection on each hidden layer. Pure: no Node, DOM or engine imports.
//
// Where the norm sits in hidden layer i (x: its input, W: its linear map, act: its activation):
//   pre   act(W·norm(x))        with a residual: x + act(W·norm(x))        ("pre-norm")
//   mid   act(norm(W·x))        with a residual: x + act(norm(W·x))        (BatchNorm's classic place: before the activation)
//   post  norm(act(W·x))        with a residual: norm(x + act(W·x))        ("post-norm")
// Dropout acts on the layer's activation output, before the residual sum (and before a post norm).
// A residual connection needs the layer's input and output to have the same width: the studio
// refuses a mismatch with the reason rather than adding a hidden projection, so what is drawn is
// exactly what is computed (make the widths equal, or turn the residual off).

export const NORM_NAMES = ['none', 'batch', 'layer'] as const
export type NormName = (typeof NORM_NAMES)[number]
export const NORM_POSITIONS = ['pre', 'mid', 'post'] as const
export type NormPosition = (typeof NORM_POSITIONS)[number]
/** Dropout probabilities run from 0 (none) up to this. */
export const MAX_DROPOUT = 0.9

export interface BlockOptions {
  norm: NormName
  normAt: NormPosition
  /** Probability of zeroing each unit in training (inverted scaling); 0: no dropout. */
  dropout: number
  residual: boolean
}

export const PLAIN_BLOCK: Readonly<BlockOptions> = Object.freeze({ norm: 'none', normAt: 'mid', dropout: 0, residual: false })

export const NORM_LABELS: Record<Exclude<NormName, 'none'>, { label: string; short: string }> = {
  batch: { label: 'BatchNorm', short: 'BN' },
  layer: { label: 'LayerNorm', short: 'LN' },
}

/** One block per hidden layer: the given ones, or plain layers where none are given. */
export function blocksOf(hiddenLayers: number, blocks?: readonly BlockOptions[] | null): BlockOptions[] {
  return Array.from({ length: hiddenLayers }, (_, i) => ({ ...PLAIN_BLOCK, ...(blocks?.[i] ?? {}) }))
}

/** True when a block adds nothing to a plain linear + activation layer. */
export function isPlain(b: BlockOptions): boolean {
  return b.norm === 'none' && b.dropout === 0 && !b.residual
}

/** The width the norm of hidden layer i normalises: its input (pre) or its output (mid, post). */
export function normWidth(sizes: readonly number[], i: number, b: BlockOptions): number {
  return b.normAt === 'pre' ? sizes[i]! : sizes[i + 1]!
}

/** Trainable parameters the blocks add (each norm's γ and β; running statistics are not trained). */
export function blockParamCount(sizes: readonly number[], blocks: readonly BlockOptions[]): number {
  let n = 0
  blocks.forEach((b, i) => {
    if (b.norm !== 'none') n += 2 * normWidth(sizes, i, b)
  })
  return n
}

export interface BlockProblem {
  /** Where in the model spec: ['blocks', i, field]. */
  path: (string | number)[]
  message: string
}

/**
 * What makes these blocks impossible for this network (sizes: inputs, hidden…, outputs) and batch
 * size, said so a user can act on it; empty when they are fine.
 */
export function blockProblems(sizes: readonly number[], blocks: readonly BlockOptions[], batchSize: number): BlockProblem[] {
  const out: BlockProblem[] = []
  blocks.forEach((b, i) => {
    const [inputs, width] = [sizes[i]!, sizes[i + 1]!]
    if (b.residual && inputs !== width) {
      const what = i === 0 ? `the ${inputs} input features` : `layer ${i}'s ${inputs} units`
      out.push({
        path: ['blocks', i, 'residual'],
        message: `hidden layer ${i + 1} has ${width} units but its input is ${what}: a residual connection adds the input to the output, so both need the same width (set this layer to ${inputs} units, or turn the residual off)`,
      })
    }
    if (b.norm === 'batch' && batchSize < 2) {
      out.push({
        path: ['blocks', i, 'norm'],
        message: `BatchNorm on hidden layer ${i + 1} needs batches of at least 2 rows to compute batch statistics (the batch size is ${batchSize}); raise the batch size or use LayerNorm`,
      })
    }
  })
  return out
}

/**
 * One hidden layer in the architecture line, its pieces in the order they apply: "16 tanh" for a
 * plain layer, "16 BN tanh", "LN 16 relu drop 0.2 +skip", "16 tanh LN".
 */
export function blockLabel(width: number, activation: string, b: BlockOptions): string {
  const norm = b.norm === 'none' ? null : NORM_LABELS[b.norm].short
  const parts: string[] = []
  if (norm && b.normAt === 'pre') parts.push(norm)
  parts.push(String(width))
  if (norm && b.normAt === 'mid') parts.push(norm)
  parts.push(activation)
  if (b.dropout > 0) parts.push(`drop ${b.dropout}`)
  if (b.residual) parts.push('+skip')
  if (norm && b.normAt === 'post') parts.push(norm)
  return parts.join(' ')
}

// Protocol messages for seeing backpropagation: the scalar (micrograd) explainer, the autograd
// graph of one training step, the network's weights and gradients, neuron maps, and gradient
// checks on demand. The renderer never walks engine objects: it gets these snapshots as data.
import { z } from 'zod'
import { SALIENCY_REQUESTS } from './protocol-saliency'

const sessionId = z.string().regex(/^s[0-9]{1,9}$/, 'is not a session id')
const num = z.number() // finite: NaN/Infinity cannot cross JSON; senders replace them (see below)

// ---------------------------------------------------------------------------------------------
// Scalar explainer

export const SCALAR_OPS = ['', 'add', 'mul', 'pow', 'exp', 'log', 'tanh', 'relu', 'max'] as const

export const ScalarNode = z.strictObject({
  id: z.number().int(),
  /** The variable name it was assigned to, or '' for an intermediate (e.g. a constant or -x). */
  label: z.string(),
  op: z.enum(SCALAR_OPS),
  data: num,
  grad: num,
  /** Operand node ids in order, duplicates kept (`a + a` has [a, a]). */
  inputs: z.array(z.number().int()),
  exponent: num.optional(),
})

export const ScalarStep = z.strictObject({
  /** The node whose local rule runs (the gate), and the operand receiving a contribution. */
  nodeId: z.number().int(),
  inputId: z.number().int(),
  inputIndex: z.number().int(),
  upstream: num,
  localDerivative: num,
  contribution: num,
  gradBefore: num,
  gradAfter: num,
  /** The gate's rule in words: "add distributes: …", "mul swaps: …", "max routes: …". */
  rule: z.string(),
})

export const ScalarProgram = z.strictObject({
  nodes: z.array(ScalarNode),
  /** The value backward starts from: the last assigned variable. */
  rootId: z.number().int(),
  variables: z.array(z.strictObject({ name: z.string(), nodeId: z.number().int() })),
  /** Every chain-rule step of backward() in order (grads in `nodes` are the final ones). */
  steps: z.array(ScalarStep),
  /** The same pass with `=` instead of `+=`: the classic bug, shown next to the right answer. */
  wrongSteps: z.array(ScalarStep),
  wrongGrads: z.array(z.strictObject({ nodeId: z.number().int(), grad: num })),
})

// ---------------------------------------------------------------------------------------------
// Autograd graph of one training step

export const TensorStats = z.strictObject({ mean: num, std: num, min: num, max: num, norm: num, nonFinite: z.number().int() })

export const GraphNode = z.strictObject({
  id: z.number().int(),
  /** '' for a leaf; otherwise the primitive op (matmul, add, relu, tanh, sum, max, exp, log, mul, pow, reshape, expand...). */
  op: z.string(),
  /** What it is: 'input x', 'labels (one-hot)', 'layers.0.weight', 'loss', or '' */
  label: z.string(),
  kind: z.enum(['input', 'parameter', 'constant', 'op', 'loss']),
  shape: z.array(z.number().int()),
  value: TensorStats,
  /** null where no gradient flows (inputs, constants). */
  grad: TensorStats.nullable(),
  /** For matmul: whether each operand was read transposed. */
  transA: z.boolean().optional(),
  transB: z.boolean().optional(),
  /** The module composed of primitives the node belongs to ('norms.0 · BatchNorm1d', 'residual · layers.1'), if any. */
  group: z.string().optional(),
})

export const GraphSnapshot = z.strictObject({
  sessionId,
  step: z.number().int(),
  /** Rows of the batch the step was run on (kept small so the numbers are readable). */
  batchSize: z.number().int(),
  /** The mode the step ran in: train (BatchNorm on the batch's statistics, dropout masks drawn), or eval. Absent: eval. */
  mode: z.enum(['train', 'eval']).optional(),
  nodes: z.array(GraphNode),
  /** Data flows from → to; inputIndex is the operand position in `to`. */
  edges: z.array(z.strictObject({ from: z.number().int(), to: z.number().int(), inputIndex: z.number().int() })),
  rootId: z.number().int(),
})

// ---------------------------------------------------------------------------------------------
// Network view

export const NetworkLayer = z.strictObject({
  name: z.string(),
  inFeatures: z.number().int(),
  outFeatures: z.number().int(),
  activation: z.string(),
  /** Edges, all of them or the strongest by |weight| when the layer has more than maxEdgesPerLayer. */
  from: z.array(z.number().int()),
  to: z.array(z.number().int()),
  weight: z.array(num),
  grad: z.array(num),
  /** The last optimiser update of each edge's weight (Δw), 0 before the first step. */
  update: z.array(num),
  sampled: z.boolean(),
  bias: z.array(num),
  biasGrad: z.array(num),
})

export const NetworkSnapshot = z.strictObject({
  sessionId,
  step: z.number().int(),
  featureNames: z.array(z.string()),
  layers: z.array(NetworkLayer),
  /** Per layer of neurons (input features first, then each layer's outputs): mean activation and
   *  mean ∂L/∂activation over a fixed evaluation batch. */
  neurons: z.array(z.strictObject({ activation: z.array(num), gradActivation: z.array(num) })),
  /**
   * Present when a column is wider than maxNeurons: per column, the neurons shown (ascending
   * indices, an even spread). Then every neuron position in the snapshot (neurons[c], bias,
   * biasGrad, from, to) counts among the shown ones: position p is neuron shown[c][p].
   */
  shown: z.array(z.array(z.number().int().min(0))).optional(),
})

export const NeuronMap = z.strictObject({
  resolution: z.number().int(),
  xRange: z.tuple([num, num]),
  yRange: z.tuple([num, num]),
  /** resolution² values, row-major from (xMin, yMax) at the top left. */
  values: z.array(num),
  min: num,
  max: num,
})

/** At most this many grid cells (maps × resolution²) in one session.neuronMaps reply: 64 KiB of bytes. */
export const NEURON_MAPS_MAX_CELLS = 65_536
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'is not base64')

/** One column of the network view (0: the input features; c: layer c−1's outputs) and the maps of some of its neurons. */
export const NeuronMapColumn = z.strictObject({
  /** Neurons in the column. */
  width: z.number().int().min(1),
  /** The neurons that have a map, ascending: all of them, or an evenly spread sample. */
  indices: z.array(z.number().int().min(0)),
  /** Per map, the values that bytes 0 and 255 stand for (value = min + (max − min)·byte/255). */
  min: z.array(num),
  max: z.array(num),
  /** indices.length maps of resolution² bytes each, row-major from (xMin, yMax), base64. */
  data: base64.max(Math.ceil(NEURON_MAPS_MAX_CELLS / 3) * 4),
})

export const NeuronMaps = z
  .strictObject({
    sessionId,
    step: z.number().int(),
    resolution: z.number().int().min(2),
    xRange: z.tuple([num, num]),
    yRange: z.tuple([num, num]),
    columns: z.array(NeuronMapColumn),
    /** Whether some column shows a sample of its neurons (the caps of the request, or the host's cell cap). */
    sampled: z.boolean(),
  })
  .superRefine((m, ctx) => {
    let cells = 0
    m.columns.forEach((c, i) => {
      const n = c.indices.length
      cells += n * m.resolution ** 2
      if (c.min.length !== n || c.max.length !== n)
        ctx.addIssue({ code: 'custom', path: ['columns', i], message: `${n} maps but ${c.min.length} min and ${c.max.length} max values` })
      if (c.indices.some((k, j) => k >= c.width || (j > 0 && k <= c.indices[j - 1]!)))
        ctx.addIssue({ code: 'custom', path: ['columns', i, 'indices'], message: `must ascend and stay below the width ${c.width}` })
      if (c.data.length !== Math.ceil((n * m.resolution ** 2) / 3) * 4)
        ctx.addIssue({ code: 'custom', path: ['columns', i, 'data'], message: `must hold ${n} maps of ${m.resolution}² bytes` })
    })
    if (cells > NEURON_MAPS_MAX_CELLS)
      ctx.addIssue({ code: 'custom', path: ['columns'], message: `${cells} cells exceed the cap of ${NEURON_MAPS_MAX_CELLS}` })
  })

// ---------------------------------------------------------------------------------------------
// Gradient check on demand

export const GradcheckResult = z.strictObject({
  param: z.string(),
  /** Max |analytic − numeric| / max(1, |analytic|, |numeric|) over the checked elements. */
  maxRelError: num,
  maxAbsError: num,
  checked: z.number().int(),
  total: z.number().int(),
  /** The first few elements compared, for display. */
  samples: z.array(z.strictObject({ index: z.number().int(), analytic: num, numeric: num })),
  /** How it was computed, in words (float64 copy of the model, central differences, eps). */
  method: z.string(),
})

export const INSPECT_REQUESTS = {
  'scalar.evaluate': { payload: z.strictObject({ source: z.string().max(4000) }), result: ScalarProgram },
  'session.graph': { payload: z.strictObject({ sessionId, batchSize: z.number().int().min(1).max(64).default(4) }), result: GraphSnapshot },
  'session.network': {
    payload: z.strictObject({
      sessionId,
      maxEdgesPerLayer: z.number().int().min(1).max(20_000).default(2_000),
      /** Columns wider than this show an evenly spread sample of their neurons (the reply's `shown`). */
      maxNeurons: z.number().int().min(2).max(4096).default(64),
    }),
    result: NetworkSnapshot,
  },
  'session.neuronMap': {
    payload: z.strictObject({
      sessionId,
      layer: z.number().int().min(0),
      neuron: z.number().int().min(0),
      resolution: z.number().int().min(4).max(64).default(32),
    }),
    result: NeuronMap,
  },
  /** Every neuron's map (a sample where there are more than the caps allow) from one forward pass over the grid. */
  'session.neuronMaps': {
    payload: z.strictObject({
      sessionId,
      resolution: z.number().int().min(4).max(32).default(16),
      maxPerColumn: z.number().int().min(1).max(64).default(8),
      maxMaps: z.number().int().min(1).max(256).default(128),
    }),
    result: NeuronMaps,
  },
  'session.gradcheck': {
    payload: z.strictObject({ sessionId, param: z.string().max(64), maxElements: z.number().int().min(1).max(500).default(50) }),
    result: GradcheckResult,
  },
  ...SALIENCY_REQUESTS,
} as const

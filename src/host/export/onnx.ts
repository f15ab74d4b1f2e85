// ONNX export for inference elsewhere: MatMul + Add per layer (our [in, out] weights need no
// transpose), the activation as ONNX ops (GELU exactly, via Erf), input `x` [N, in] with a
// symbolic batch dimension, output `logits`. With the lab's blocks: BatchNormalization (on the
// running statistics, as at inference), LayerNormalization, Dropout (the identity at inference)
// and Add for a residual, where shared/model-blocks.ts puts them; a kept input standardisation is
// Sub and Div first. Opset 13, or 17 when a LayerNorm needs LayerNormalization (new in opset 17);
// encoded with onnx-proto's protobuf classes.
import onnxProto from 'onnx-proto'
import type { ExportLayer, ExportModel } from './model'

const { onnx } = onnxProto
const FLOAT = onnx.TensorProto.DataType.FLOAT
const ATTR = onnx.AttributeProto.AttributeType
export const ONNX_OPSET = 13
/** The opset of a model with a LayerNorm: LayerNormalization is an ONNX op from opset 17 on. */
export const ONNX_OPSET_LAYER_NORM = 17
/** The IR version that goes with each opset. */
const IR_VERSION: Record<number, number> = { 13: 7, 17: 8 }
/** PyTorch's and the engine's norm eps. */
const NORM_EPS = 1e-5

function floatTensor(name: string, dims: number[], values: Float32Array | number[]): InstanceType<typeof onnx.TensorProto> {
  // raw_data is little-endian by the ONNX spec, whatever the host's byte order.
  const raw = new Uint8Array(values.length * 4)
  const view = new DataView(raw.buffer)
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true)
  return onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData: raw })
}

function valueInfo(name: string, width: number): InstanceType<typeof onnx.ValueInfoProto> {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: width }] } } },
  })
}

export function onnxModel(model: ExportModel, docString: string): Uint8Array {
  const nodes: InstanceType<typeof onnx.NodeProto>[] = []
  const initializers = model.layers.flatMap((l, i) => [
    floatTensor(`layers.${i}.weight`, [l.inFeatures, l.outFeatures], l.weight),
    floatTensor(`layers.${i}.bias`, [l.outFeatures], l.bias),
  ])
  const node = (opType: string, inputs: string[], output: string, attribute: object[] = []): string => {
    nodes.push(onnx.NodeProto.create({ opType, input: inputs, output: [output], name: output, attribute }))
    return output
  }
  if (model.layers.some((l) => l.activation === 'gelu')) {
    initializers.push(floatTensor('gelu.sqrt2', [], [Math.SQRT2]), floatTensor('gelu.one', [], [1]), floatTensor('gelu.half', [], [0.5]))
  }
  /** Hidden layer i's norm on `v`. */
  const norm = (l: ExportLayer, i: number, v: string): string => {
    const n = l.norm!
    const p = `norms.${i}`
    initializers.push(floatTensor(`${p}.weight`, [n.features], n.weight), floatTensor(`${p}.bias`, [n.features], n.bias))
    const eps = { name: 'epsilon', type: ATTR.FLOAT, f: NORM_EPS }
    if (n.kind === 'layer')
      return node('LayerNormalization', [v, `${p}.weight`, `${p}.bias`], `${p}.layer_norm`, [{ name: 'axis', type: ATTR.INT, i: -1 }, eps])
    initializers.push(
      floatTensor(`${p}.running_mean`, [n.features], n.runningMean!),
      floatTensor(`${p}.running_var`, [n.features], n.runningVar!),
    )
    // ONNX's momentum weighs the running value (PyTorch's weighs the batch): 1 − 0.1. Unused at inference.
    const momentum = { name: 'momentum', type: ATTR.FLOAT, f: 0.9 }
    return node('BatchNormalization', [v, `${p}.weight`, `${p}.bias`, `${p}.running_mean`, `${p}.running_var`], `${p}.batch_norm`, [
      eps,
      momentum,
    ])
  }
  let h = 'x'
  if (model.inputScaling) {
    initializers.push(
      floatTensor('input.mean', [model.sizes[0]], model.inputScaling.mean),
      floatTensor('input.std', [model.sizes[0]], model.inputScaling.std),
    )
    h = node('Div', [node('Sub', ['x', 'input.mean'], 'input.centred'), 'input.std'], 'input.standardised')
  }
  const last = model.layers.length - 1
  model.layers.forEach((l, i) => {
    const p = `layers.${i}`
    const at = l.norm?.at
    const x = h
    const z = node(
      'Add',
      [node('MatMul', [at === 'pre' ? norm(l, i, x) : x, `${p}.weight`], `${p}.matmul`), `${p}.bias`],
      i === last ? 'logits' : `${p}.linear`,
    )
    h = activate(node, at === 'mid' ? norm(l, i, z) : z, l.activation, p)
    if (l.dropout > 0) h = node('Dropout', [h], `${p}.dropout`)
    if (l.residual) h = node('Add', [x, h], `${p}.residual`)
    if (at === 'post') h = norm(l, i, h)
  })
  const graph = onnx.GraphProto.create({
    name: 'mlp',
    node: nodes,
    initializer: initializers,
    input: [valueInfo('x', model.sizes[0])],
    output: [valueInfo('logits', model.sizes[model.sizes.length - 1])],
  })
  const opset = model.layers.some((l) => l.norm?.kind === 'layer') ? ONNX_OPSET_LAYER_NORM : ONNX_OPSET
  const proto = onnx.ModelProto.create({
    irVersion: IR_VERSION[opset],
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'backprop-studio',
    docString,
    graph,
  })
  return onnx.ModelProto.encode(proto).finish()
}

type Node = (opType: string, inputs: string[], output: string, attribute?: object[]) => string

/** The activation on `z` as ONNX nodes named after layer `p`. */
function activate(node: Node, z: string, activation: ExportLayer['activation'], p: string): string {
  switch (activation) {
    case 'relu':
      return node('Relu', [z], `${p}.relu`)
    case 'leakyRelu':
      return node('LeakyRelu', [z], `${p}.leaky_relu`, [{ name: 'alpha', type: ATTR.FLOAT, f: 0.01 }])
    case 'tanh':
      return node('Tanh', [z], `${p}.tanh`)
    case 'sigmoid':
      return node('Sigmoid', [z], `${p}.sigmoid`)
    case 'gelu': {
      // gelu(z) = 0.5 · z · (1 + erf(z / √2)), the exact form the engine and nn.GELU() use.
      const erf = node('Erf', [node('Div', [z, 'gelu.sqrt2'], `${p}.gelu.scaled`)], `${p}.gelu.erf`)
      const gate = node('Add', [erf, 'gelu.one'], `${p}.gelu.gate`)
      return node('Mul', [node('Mul', [z, gate], `${p}.gelu.prod`), 'gelu.half'], `${p}.gelu`)
    }
    case 'linear':
      return z
  }
}

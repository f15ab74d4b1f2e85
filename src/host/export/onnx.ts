// ONNX export for inference elsewhere: MatMul + Add per layer (our [in, out] weights need no
// transpose), the activation as ONNX ops (GELU exactly, via Erf), input `x` [N, in] with a
// symbolic batch dimension, output `logits`. Opset 13, encoded with onnx-proto's protobuf classes.
import onnxProto from 'onnx-proto'
import type { ExportModel } from './model'

const { onnx } = onnxProto
const FLOAT = onnx.TensorProto.DataType.FLOAT
export const ONNX_OPSET = 13

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
  if (model.hiddenActivation === 'gelu') {
    initializers.push(floatTensor('gelu.sqrt2', [], [Math.SQRT2]), floatTensor('gelu.one', [], [1]), floatTensor('gelu.half', [], [0.5]))
  }
  let h = 'x'
  const last = model.layers.length - 1
  model.layers.forEach((l, i) => {
    const p = `layers.${i}`
    const z = node('Add', [node('MatMul', [h, `${p}.weight`], `${p}.matmul`), `${p}.bias`], i === last ? 'logits' : `${p}.linear`)
    switch (l.activation) {
      case 'relu':
        h = node('Relu', [z], `${p}.relu`)
        break
      case 'leakyRelu':
        h = node('LeakyRelu', [z], `${p}.leaky_relu`, [{ name: 'alpha', type: onnx.AttributeProto.AttributeType.FLOAT, f: 0.01 }])
        break
      case 'tanh':
        h = node('Tanh', [z], `${p}.tanh`)
        break
      case 'sigmoid':
        h = node('Sigmoid', [z], `${p}.sigmoid`)
        break
      case 'gelu': {
        // gelu(z) = 0.5 · z · (1 + erf(z / √2)), the exact form the engine and nn.GELU() use.
        const erf = node('Erf', [node('Div', [z, 'gelu.sqrt2'], `${p}.gelu.scaled`)], `${p}.gelu.erf`)
        const gate = node('Add', [erf, 'gelu.one'], `${p}.gelu.gate`)
        h = node('Mul', [node('Mul', [z, gate], `${p}.gelu.prod`), 'gelu.half'], `${p}.gelu`)
        break
      }
      case 'linear':
        h = z
        break
    }
  })
  const graph = onnx.GraphProto.create({
    name: 'mlp',
    node: nodes,
    initializer: initializers,
    input: [valueInfo('x', model.sizes[0])],
    output: [valueInfo('logits', model.sizes[model.sizes.length - 1])],
  })
  const proto = onnx.ModelProto.create({
    irVersion: 7, // the IR version that goes with opset 13
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'backprop-studio',
    docString,
    graph,
  })
  return onnx.ModelProto.encode(proto).finish()
}

// The modules the graph view marks. The step is drawn in train mode, as training runs it, on a
// frozen copy of the model (inspect-pieces.ts): BatchNorm on the batch's statistics (its backward
// reaches every row through the batch mean and variance) and dropout with a mask (the masks the
// next training step would draw; the live generator is put back as it was). BatchNorm, LayerNorm, dropout and
// the residual sum are composed of primitives, so their nodes are primitive ops; the groups say
// which module each one belongs to (graph-snapshot.ts GraphGroup).
import { nn, type GraphGroup, type Tensor } from '../engine'

/** A BatchNorm in train mode needs two rows or more; with fewer, the step is drawn in eval mode. */
export function graphMode(model: nn.MLP, rows: number): 'train' | 'eval' {
  return rows < 2 && model.norms.some((n) => n instanceof nn.BatchNorm1d) ? 'eval' : 'train'
}

/**
 * Wrap `model`'s norms, dropouts and layers (this copy only) so that its next forward pass records
 * each module's operands and output; the returned list fills as the pass runs.
 */
export function recordGroups(model: nn.MLP): GraphGroup[] {
  const groups: GraphGroup[] = []
  const normInput: (Tensor | null)[] = model.norms.map(() => null)
  const dropOutput: (Tensor | null)[] = model.dropouts.map(() => null)
  model.norms.forEach((n, i) => {
    if (!n) return
    const forward = n.forward.bind(n)
    n.forward = (x: Tensor) => {
      const y = forward(x)
      const kind = n instanceof nn.BatchNorm1d ? `BatchNorm1d (${n.training ? 'batch' : 'running'} statistics)` : 'LayerNorm'
      normInput[i] = x
      groups.push({ label: `norms.${i} · ${kind}`, output: y, inputs: [x] })
      return y
    }
  })
  model.dropouts.forEach((d, i) => {
    if (!d) return
    const forward = d.forward.bind(d)
    d.forward = (x: Tensor) => {
      const y = forward(x)
      dropOutput[i] = y
      groups.push({ label: `dropout · layers.${i} (p = ${d.p})`, output: y, inputs: [x] })
      return y
    }
  })
  const forwardLayer = model.forwardLayer.bind(model)
  model.forwardLayer = (i: number, x: Tensor) => {
    normInput[i] = null
    dropOutput[i] = null
    const out = forwardLayer(i, x)
    if (model.residual[i]) {
      // The sum x + F(x) is the layer's output, or a post norm's input.
      const sum = model.blocks[i].norm !== 'none' && model.blocks[i].normAt === 'post' ? normInput[i]! : out.output
      groups.push({ label: `residual · layers.${i} (x + F(x))`, output: sum, inputs: [x, dropOutput[i] ?? out.activation] })
    }
    return out
  }
  return groups
}

/** Undo recordGroups on `model`: its modules forward as their classes do again (a reused copy records nothing). */
export function stopRecording(model: nn.MLP): void {
  const own = model as unknown as Record<string, unknown>
  delete own.forwardLayer
  for (const m of [...model.norms, ...model.dropouts]) if (m) delete (m as unknown as Record<string, unknown>).forward
}

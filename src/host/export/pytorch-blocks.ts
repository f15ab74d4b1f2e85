// model.py's module for an MLP with the lab's blocks: one Block per hidden layer (its Linear, its
// norm — nn.BatchNorm1d or nn.LayerNorm, eps 1e-5, BatchNorm's momentum 0.1 — where the studio put
// it, nn.Dropout on the activation's output and the residual sum, in the order of
// shared/model-blocks.ts), then the output Linear. Its state_dict names are torch-weights.ts's.
import type { ExportModel } from './model'

/** A JS value as a Python literal (strings via JSON, which Python's string syntax accepts). */
export const py = (v: number | boolean | string | readonly (number | string)[]): string =>
  typeof v === 'boolean' ? (v ? 'True' : 'False') : JSON.stringify(v)

/**
 * The run's standardisation of the inputs when it is not folded into layer 0 (a first layer that
 * reads the standardised inputs themselves, or the PyTorch export, whose layer 0 must stay the
 * studio's parameter): buffers set in __init__ and the first line of forward; empty without one.
 */
export function scalingPy(model: ExportModel): { init: string; forward: string } {
  const sc = model.inputScaling
  if (!sc) return { init: '', forward: '' }
  return {
    init: `        # The run's standardisation of the inputs, applied first (kept out of the first layer's weights).
        self.register_buffer("input_mean", torch.tensor(${py(Array.from(sc.mean))}), persistent=False)
        self.register_buffer("input_std", torch.tensor(${py(Array.from(sc.std))}), persistent=False)
`,
    forward: '        x = (x - self.input_mean) / self.input_std\n',
  }
}

/**
 * The return of forward: the last layer's output `expr`, mapped back to the target's units when the
 * run trained on a standardised target that is kept out of the output layer (TARGET_SCALING).
 */
export const outputPy = (model: ExportModel, expr: string): string =>
  model.outputScaling ? `${expr} * TARGET_SCALING[1] + TARGET_SCALING[0]` : expr

/** The Block class and the MLP built from blocks; `activation(name)` is the nn module's Python text. */
export function blocksModulePy(model: ExportModel, activation: (l: ExportModel['layers'][number]) => string): string {
  const hidden = model.layers.slice(0, -1)
  const out = model.layers.at(-1)!
  const blocks = hidden.map((l) => {
    const norm = l.norm ? `, norm=${py(l.norm.kind)}, norm_at=${py(l.norm.at)}` : ''
    return `            Block(${l.inFeatures}, ${l.outFeatures}, ${activation(l)}${norm}, dropout=${py(l.dropout)}, residual=${py(l.residual)}),`
  })
  const scaling = scalingPy(model)
  return `class Block(nn.Module):
    """A hidden layer with its extras, in the order Backprop Studio applies them. The norm sits
    before the layer ("pre": x + act(W(norm(x)))), between it and its activation ("mid":
    x + act(norm(W(x)))) or after ("post": norm(x + act(W(x)))); without a residual there is no
    "x +". Dropout acts on the activation's output, before the residual sum."""

    def __init__(self, n_in, n_out, act, norm=None, norm_at="mid", dropout=0.0, residual=False):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        width = n_in if norm_at == "pre" else n_out
        self.norm = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}[norm](width) if norm else None
        self.norm_at = norm_at
        self.act = act
        self.drop = nn.Dropout(dropout) if dropout > 0 else None
        self.residual = residual

    def forward(self, x):
        norm = self.norm
        h = norm(x) if norm is not None and self.norm_at == "pre" else x
        h = self.linear(h)
        if norm is not None and self.norm_at == "mid":
            h = norm(h)
        h = self.act(h)
        if self.drop is not None:
            h = self.drop(h)
        if self.residual:
            h = x + h
        if norm is not None and self.norm_at == "post":
            h = norm(h)
        return h


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
${scaling.init}        self.blocks = nn.ModuleList([
${blocks.join('\n')}
        ])
        self.out = nn.Linear(${out.inFeatures}, ${out.outFeatures})

    def forward(self, x):
${scaling.forward}        for block in self.blocks:
            x = block(x)
        return ${outputPy(model, 'self.out(x)')}
`
}

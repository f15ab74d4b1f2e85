// A small layered layout for scalar graphs (tens of nodes), drawn left → right like micrograd's
// draw_dot: each value is a record box, each computed value has its op circle just to its left.
// Layers are depths (a leaf sits one layer before its first use); order within a layer comes from
// barycentre sweeps, vertical positions from an ordered least-squares fit (pool adjacent violators).

export interface LayoutInputNode {
  id: number
  /** '' for a leaf: no op circle. */
  op: string
  inputs: readonly number[]
  /** Width of the value's record box. */
  width: number
  /** Height of the record box plus anything drawn under it (the contributions list). */
  height: number
}

export interface PlacedValue {
  id: number
  layer: number
  x: number
  y: number
  width: number
  height: number
}

export interface PlacedEdge {
  from: number
  to: number
  inputIndex: number
  /** SVG path from the operand's box to the consumer's op circle. */
  path: string
  /** Midpoint of the path and its highest point, for a label above it. */
  mid: { x: number; y: number }
  top: number
}

export interface ScalarLayout {
  values: Map<number, PlacedValue>
  /** Op circle centres of computed values. */
  ops: Map<number, { x: number; y: number }>
  edges: PlacedEdge[]
  width: number
  height: number
}

export const BOX_HEIGHT = 34
/** One line of a value's contributions list. */
export const LINE_HEIGHT = 15

/** Widths of a record box's cells: label | data | grad | grad with `=` (0 when hidden). */
export interface BoxCells {
  label: number
  data: number
  grad: number
  wrong: number
}

export const CELL_WIDTHS = { data: 72, grad: 80, wrong: 80 } as const

export function boxCells(label: string, showWrong: boolean): BoxCells {
  return {
    label: Math.max(34, label.length * 8.6 + 18),
    data: CELL_WIDTHS.data,
    grad: CELL_WIDTHS.grad,
    wrong: showWrong ? CELL_WIDTHS.wrong : 0,
  }
}

/** A record box plus its contributions list when the value is used more than once. */
export function boxHeight(uses: number): number {
  return BOX_HEIGHT + (uses > 1 ? 8 + uses * LINE_HEIGHT : 0)
}
export const OP_RADIUS = 17
const OP_GAP = 26 // op circle's right edge → its value box
const COLUMN_GAP = 92 // a box's right edge → the next column's op circle (room for a label)
const ROW_GAP = 18
const PAD = 16

export function layoutScalarGraph(nodes: readonly LayoutInputNode[]): ScalarLayout {
  const byId = new Map(nodes.map((n) => [n.id, n]))
  const consumers = new Map<number, number[]>(nodes.map((n) => [n.id, []]))
  for (const n of nodes) for (const i of new Set(n.inputs)) consumers.get(i)?.push(n.id)

  // Depths: computed values by longest path (ids are created in evaluation order, so inputs come
  // first; sort to be safe), leaves pulled right to just before their first consumer.
  const order = [...nodes].sort((a, b) => a.id - b.id)
  const layer = new Map<number, number>()
  for (const n of order) layer.set(n.id, n.op === '' ? 0 : 1 + Math.max(0, ...n.inputs.map((i) => layer.get(i) ?? 0)))
  for (const n of order) {
    const uses = consumers.get(n.id)!.map((c) => layer.get(c)!)
    if (n.op === '' && uses.length) layer.set(n.id, Math.max(0, Math.min(...uses) - 1))
  }
  const layerCount = Math.max(0, ...layer.values()) + 1
  const layers: number[][] = Array.from({ length: layerCount }, () => [])
  for (const n of order) layers[layer.get(n.id)!]!.push(n.id)

  const neighbours = (id: number) => [...new Set(byId.get(id)!.inputs), ...consumers.get(id)!]
  const height = (id: number) => byId.get(id)!.height

  // Initial positions: stacked in id order; then sweeps that reorder and re-place each layer.
  const centre = new Map<number, number>()
  for (const ids of layers)
    placeOrdered(
      ids,
      ids.map(() => 0),
      height,
      centre,
    )
  for (let sweep = 0; sweep < 8; sweep++) {
    const range = sweep % 2 === 0 ? layers : [...layers].reverse()
    for (const ids of range) {
      const desired = ids.map((id) => {
        const ys = neighbours(id).map((n) => centre.get(n)!)
        return ys.length ? ys.reduce((s, y) => s + y, 0) / ys.length : centre.get(id)!
      })
      const sorted = ids.map((id, k) => ({ id, d: desired[k]! })).sort((a, b) => a.d - b.d || a.id - b.id)
      ids.splice(0, ids.length, ...sorted.map((s) => s.id))
      placeOrdered(
        ids,
        sorted.map((s) => s.d),
        height,
        centre,
      )
    }
  }

  // x: columns as wide as their widest box; every column leaves room for op circles on its left.
  const values = new Map<number, PlacedValue>()
  const ops = new Map<number, { x: number; y: number }>()
  const top = Math.min(...nodes.map((n) => centre.get(n.id)! - BOX_HEIGHT / 2))
  // Layer 0 holds only leaves, so it needs no room for op circles.
  let x = PAD
  let right = 0
  let bottom = 0
  layers.forEach((ids, l) => {
    const columnWidth = Math.max(...ids.map((id) => byId.get(id)!.width))
    for (const id of ids) {
      const n = byId.get(id)!
      const y = centre.get(id)! - BOX_HEIGHT / 2 - top + PAD
      values.set(id, { id, layer: l, x, y, width: n.width, height: n.height })
      if (n.op !== '') ops.set(id, { x: x - OP_GAP - OP_RADIUS, y: y + BOX_HEIGHT / 2 })
      right = Math.max(right, x + n.width)
      bottom = Math.max(bottom, y + n.height)
    }
    x += columnWidth + COLUMN_GAP + 2 * OP_RADIUS + OP_GAP
  })

  const edges: PlacedEdge[] = []
  for (const n of nodes) {
    const op = ops.get(n.id)
    if (!op) continue
    n.inputs.forEach((from, inputIndex) => {
      const src = values.get(from)
      if (!src) return
      // Operands meet the circle side by side, so `a + a` shows two distinct edges.
      const spread = n.inputs.length > 1 ? (inputIndex / (n.inputs.length - 1) - 0.5) * 16 : 0
      const x1 = src.x + src.width
      const y1 = src.y + BOX_HEIGHT / 2 + (n.inputs.filter((i) => i === from).length > 1 ? spread : 0)
      const x2 = op.x - Math.sqrt(OP_RADIUS ** 2 - spread ** 2)
      const y2 = op.y + spread
      const bend = Math.max(24, (x2 - x1) / 2)
      edges.push({
        from,
        to: n.id,
        inputIndex,
        path: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`,
        mid: { x: (x1 + x2) / 2, y: (y1 + y2) / 2 },
        top: Math.min(y1, y2),
      })
    })
  }
  return { values, ops, edges, width: right + PAD, height: bottom + PAD }
}

/**
 * Centres for one layer's nodes, kept in the given order with their heights plus ROW_GAP apart, as
 * close as possible (least squares) to the desired centres: isotonic regression on desired minus
 * the stacking offsets, solved by pooling adjacent violators.
 */
function placeOrdered(ids: readonly number[], desired: readonly number[], height: (id: number) => number, out: Map<number, number>): void {
  const offsets: number[] = []
  let acc = 0
  // Centres are box centres; a node's extras (its contributions list) hang below its box.
  ids.forEach((_, k) => {
    if (k > 0) acc += height(ids[k - 1]!) + ROW_GAP
    offsets.push(acc)
  })
  const blocks: { sum: number; count: number }[] = []
  desired.forEach((d, k) => {
    blocks.push({ sum: d - offsets[k]!, count: 1 })
    while (blocks.length > 1 && blocks.at(-2)!.sum / blocks.at(-2)!.count > blocks.at(-1)!.sum / blocks.at(-1)!.count) {
      const last = blocks.pop()!
      blocks.at(-1)!.sum += last.sum
      blocks.at(-1)!.count += last.count
    }
  })
  let k = 0
  for (const b of blocks) for (let j = 0; j < b.count; j++, k++) out.set(ids[k]!, b.sum / b.count + offsets[k]!)
}

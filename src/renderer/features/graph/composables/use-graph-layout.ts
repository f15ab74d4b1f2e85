// Lays out an autograd graph snapshot with ELK's layered algorithm (data flows left to right,
// long chains wrap into rows). Only the structure matters: numbers changing between snapshots
// keep the same layout, so the picture stays still while training runs.
import type { ElkNode } from 'elkjs/lib/elk-api'
import type { RequestResult } from '../../../../shared/protocol'

type GraphSnapshot = RequestResult<'session.graph'>
type GraphNode = GraphSnapshot['nodes'][number]

export interface Box {
  x: number
  y: number
  width: number
  height: number
}

/** Card sizes by what a node is; OpNode.vue draws exactly these. */
export function nodeSize(node: Pick<GraphNode, 'kind' | 'shape'>): { width: number; height: number } {
  if (node.kind === 'constant' && node.shape.length === 0) return { width: 96, height: 44 }
  if (node.kind === 'parameter') return { width: 176, height: 106 }
  if (node.kind === 'op' || node.kind === 'loss') return { width: 176, height: 76 }
  return { width: 176, height: 74 }
}

/** Changes only when nodes, their ops/kinds/shapes, or the edges change: the trigger to relayout. */
export function structureKey(s: GraphSnapshot): string {
  const nodes = s.nodes.map((n) => `${n.id}:${n.op}:${n.kind}:${n.shape.join('x')}`).join(',')
  const edges = s.edges.map((e) => `${e.from}>${e.to}.${e.inputIndex}`).join(',')
  return `${nodes}|${edges}|${s.rootId}`
}

type Elk = { layout(graph: ElkNode): Promise<ElkNode> }
let elk: Promise<Elk> | null = null

/** ELK is large (~1.6 MB); it loads with the graph view, not with the app. */
function loadElk(): Promise<Elk> {
  elk ??= import('elkjs/lib/elk.bundled.js').then((m) => {
    const ELK = (m.default ?? m) as unknown as new () => Elk
    return new ELK()
  })
  return elk
}

export interface LayoutOptions {
  /** The space the graph is shown in: long chains wrap into rows to fill it. */
  viewport?: { width: number; height: number }
}

/** Wrapping targets tried, as multiples of the viewport's aspect ratio (ELK only approaches it). */
const ASPECT_FACTORS = [0.75, 1.2, 1.7]

async function layoutOnce(engine: Elk, s: GraphSnapshot, aspectRatio: number): Promise<Map<number, Box>> {
  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.edgeRouting': 'SPLINES',
      'elk.spacing.nodeNode': '18',
      'elk.layered.spacing.nodeNodeBetweenLayers': '42',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.layered.nodePlacement.strategy': 'NETWORK_SIMPLEX',
      'elk.layered.wrapping.strategy': 'MULTI_EDGE',
      'elk.layered.wrapping.additionalEdgeSpacing': '24',
      'elk.aspectRatio': String(aspectRatio),
    },
    children: s.nodes.map((n) => ({ id: String(n.id), ...nodeSize(n) })),
    edges: s.edges.map((e, i) => ({ id: `e${i}`, sources: [String(e.from)], targets: [String(e.to)] })),
  }
  const laid = await engine.layout(graph)
  const boxes = new Map<number, Box>()
  for (const c of laid.children ?? []) boxes.set(Number(c.id), { x: c.x ?? 0, y: c.y ?? 0, width: c.width ?? 0, height: c.height ?? 0 })
  return boxes
}

export function extent(boxes: Map<number, Box>): { width: number; height: number } {
  let width = 0
  let height = 0
  for (const b of boxes.values()) {
    width = Math.max(width, b.x + b.width)
    height = Math.max(height, b.y + b.height)
  }
  return { width, height }
}

/** The layout that is shown largest when fitted into the viewport, of a few wrapping targets. */
export async function layoutGraph(s: GraphSnapshot, options: LayoutOptions = {}): Promise<Map<number, Box>> {
  const engine = await loadElk()
  const view = options.viewport ?? { width: 1000, height: 620 }
  const target = Math.max(0.5, view.width / Math.max(1, view.height))
  let best: Map<number, Box> | null = null
  let bestZoom = -1
  for (const f of ASPECT_FACTORS) {
    const boxes = await layoutOnce(engine, s, target * f)
    const { width, height } = extent(boxes)
    const zoom = Math.min(view.width / Math.max(1, width), view.height / Math.max(1, height))
    if (zoom > bestZoom + 1e-3) {
      best = boxes
      bestZoom = zoom
    }
  }
  return best!
}

/** The operands of a node in order (edges into it sorted by inputIndex). */
export function inputsOf(s: GraphSnapshot, id: number): GraphNode[] {
  const byId = new Map(s.nodes.map((n) => [n.id, n]))
  return s.edges
    .filter((e) => e.to === id)
    .sort((a, b) => a.inputIndex - b.inputIndex)
    .map((e) => byId.get(e.from))
    .filter((n): n is GraphNode => n !== undefined)
}

// The gradient-flow lab's extras in the network view: which block each hidden layer has (the
// session's spec says; session.network sends only the linear layers), the badges on a layer's
// header (BN/LN with where it sits, dropout p, +skip) and the skip connection's arc from a layer's
// input column over to its output column.
import type { RequestResult } from '../../../../shared/protocol'
import { NORM_LABELS, blocksOf, type BlockOptions } from '../../../../shared/model-blocks'
import { POSITION_WORDS, blockFormula } from '../../../stores/session-blocks'
import type { NetworkLayout } from './use-network-layout'

type NetworkSnapshot = RequestResult<'session.network'>
type SessionInfo = RequestResult<'session.info'>

/**
 * One block per hidden layer of the snapshot, from the spec of the session it is of; plain blocks
 * when the session shown is another one (or none), so nothing is drawn for the wrong model.
 */
export function snapshotBlocks(
  s: Pick<NetworkSnapshot, 'sessionId' | 'layers'> | null,
  info: Pick<SessionInfo, 'spec' | 'state'> | null,
): BlockOptions[] {
  if (!s) return []
  const hidden = Math.max(0, s.layers.length - 1)
  return blocksOf(hidden, info?.state.sessionId === s.sessionId ? info.spec.model.blocks : null)
}

export interface Badge {
  text: string
  title: string
}

/** What a hidden layer's header shows about its block; nothing for a plain layer. */
export function blockBadges(b: BlockOptions): Badge[] {
  const out: Badge[] = []
  const formula = blockFormula(b)
  if (b.norm !== 'none')
    out.push({ text: NORM_LABELS[b.norm].short, title: `${NORM_LABELS[b.norm].label} ${POSITION_WORDS[b.normAt]}: ${formula}` })
  if (b.dropout > 0) out.push({ text: `p ${b.dropout}`, title: `dropout: each unit zeroed with probability ${b.dropout} while training` })
  if (b.residual) out.push({ text: '+skip', title: `residual connection: ${formula}` })
  return out
}

export interface SkipArc {
  /** The hidden layer (its input is column `layer`, its output column `layer + 1`). */
  layer: number
  /** SVG path from the top of the input column over to the top of the output column. */
  d: string
  /** Where the arc peaks (for its "+" label). */
  peak: { x: number; y: number }
}

/** How far an arc rises above the columns it joins (px). */
const ARC_RISE = 26

/** The skip arcs of the residual layers, in the layout's geometry. */
export function skipArcs(layout: NetworkLayout, blocks: readonly BlockOptions[]): SkipArc[] {
  const out: SkipArc[] = []
  blocks.forEach((b, l) => {
    const [a, c] = [layout.columns[l], layout.columns[l + 1]]
    if (!b.residual || !a || !c) return
    const [y0, y1] = [a.top - 3, c.top - 3]
    const top = Math.min(y0, y1) - ARC_RISE
    const [q1, q3] = [a.x + (c.x - a.x) / 4, a.x + (3 * (c.x - a.x)) / 4]
    out.push({
      layer: l,
      d: `M${a.x},${y0} C${q1},${top} ${q3},${top} ${c.x},${y1}`,
      peak: { x: (a.x + c.x) / 2, y: (y0 + y1) / 8 + (3 * top) / 4 },
    })
  })
  return out
}

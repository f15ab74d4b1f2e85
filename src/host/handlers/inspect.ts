// Seeing backprop and the studio's panels: the scalar explainer, graph and network snapshots,
// neuron maps, gradient checks, histograms, the decision boundary, predictions and the model's
// description. Read-only for the session whatever its status: they work on copies of the weights
// (or without a graph) and run between training slices, so a run continues unchanged.
import type { INSPECT_REQUESTS } from '../../shared/protocol-inspect'
import type { STUDIO_REQUESTS } from '../../shared/protocol-studio'
import { describeSession } from '../describe-session'
import { gradcheckWork, graphWork } from '../inspect-model'
import { networkWork, neuronMapOf } from '../inspect-network'
import { neuronMapsOf } from '../inspect-neuron-maps'
import { saliencyOf } from '../inspect-saliency'
import { evaluateScalar } from '../inspect-scalar'
import { inPieces } from '../inspect-pieces'
import { histogramsWork } from '../inspect-histograms'
import { boundaryWork, predictionsWork } from '../inspect-studio'
import type { SessionRegistry } from '../sessions/registry'
import type { HandlerTable } from './table'

export type InspectKind = keyof typeof INSPECT_REQUESTS | keyof typeof STUDIO_REQUESTS

export function inspectHandlers(registry: SessionRegistry, options: { turnMs: number }): HandlerTable<InspectKind> {
  const { turnMs } = options
  return {
    'scalar.evaluate': ({ source }) => evaluateScalar(source),
    // Work that grows with the model runs in pieces sized from its shape (inspect-pieces.ts), on a
    // copy of the weights allocated a few layers per piece before the work begins.
    'session.graph': ({ sessionId, batchSize }) => inPieces(registry, sessionId, (s) => graphWork(s, batchSize), { copy: 'model', turnMs }),
    'session.network': ({ sessionId, maxEdgesPerLayer, maxNeurons }) =>
      inPieces(registry, sessionId, (s) => networkWork(s, maxEdgesPerLayer, maxNeurons), { copy: 'model', turnMs }),
    'session.neuronMap': ({ sessionId, layer, neuron, resolution }) =>
      registry.reading(sessionId, (s) => neuronMapOf(s, layer, neuron, resolution)),
    'session.neuronMaps': ({ sessionId, resolution, maxPerColumn, maxMaps }) =>
      registry.reading(sessionId, (s) => neuronMapsOf(s, resolution, maxPerColumn, maxMaps)),
    'session.gradcheck': ({ sessionId, param, maxElements }) =>
      inPieces(registry, sessionId, (s) => gradcheckWork(s, param, maxElements), { copy: 'float64', turnMs }),
    'session.saliency': ({ sessionId, perKind }) => registry.reading(sessionId, (s) => saliencyOf(s, perKind)),

    // The studio's inspection panels (inspect-studio.ts).
    'session.histograms': ({ sessionId, bins, range }) => inPieces(registry, sessionId, (s) => histogramsWork(s, bins, range), { turnMs }),
    'session.boundary': ({ sessionId, resolution }) =>
      inPieces(registry, sessionId, (s) => boundaryWork(s, resolution), { copy: 'model', turnMs }),
    'session.predictions': ({ sessionId, split, max }) =>
      inPieces(registry, sessionId, (s) => predictionsWork(s, split, max), { copy: 'model', turnMs }),
    // Shapes and names only, so it does not wait for a device session's queue.
    'session.describe': ({ sessionId }) => describeSession(registry.get(sessionId)),
  }
}

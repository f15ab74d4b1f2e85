// 'host.hello': what this engine host offers (protocol version, data generators, bundled datasets,
// activations, initialisers, limits), asked once by a client before anything else.
import { data, nn } from '../../engine'
import { ACTIVATION_NAMES, INIT_NAMES, LIMITS, PROTOCOL_VERSION } from '../../shared/protocol'
import { listBundled } from '../datasets/bundled'
import type { HandlerTable } from './table'

export function helloHandlers(): HandlerTable<'host.hello'> {
  return {
    'host.hello': () => ({
      protocolVersion: PROTOCOL_VERSION,
      generators: data.listGenerators().map(({ name, label, task, description }) => ({ name, label, task, description })),
      datasets: listBundled(),
      activations: nn.ACTIVATIONS.filter((a) => ACTIVATION_NAMES.includes(a)),
      initializers: nn.INITIALIZERS.filter((i) => INIT_NAMES.includes(i)),
      limits: { ...LIMITS },
    }),
  }
}

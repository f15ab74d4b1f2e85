// The explainer's example programs: the engine's preset data (a file with no imports, so no engine
// code enters the renderer bundle) with the short chip labels this view shows.
import { SCALAR_PRESETS as PROGRAMS } from '../../../engine/scalar/presets'

export interface ScalarPreset {
  id: string
  /** The chip's text. */
  label: string
  /** One line on what the example teaches (the chip's tooltip). */
  hint: string
  source: string
}

const CHIP_LABELS: Record<string, string> = {
  seed: 'L = (a·b + c)·f',
  reuse: 'b = a + a',
  'tanh-neuron': 'tanh neuron',
  max: 'max routes',
  'more-ops': 'micrograd test',
}

export const SCALAR_PRESETS: readonly ScalarPreset[] = PROGRAMS.map((p) => ({
  id: p.id,
  label: CHIP_LABELS[p.id] ?? p.title,
  hint: p.description,
  source: p.source,
}))

export const DEFAULT_PRESET = SCALAR_PRESETS[0]!

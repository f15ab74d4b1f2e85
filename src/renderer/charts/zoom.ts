// Wheel/pinch zoom and drag pan for the live charts (chartjs-plugin-zoom), registered only by the
// charts that use it: the plugin touches the DOM on import, so unit tests never load this module.
import zoomPlugin from 'chartjs-plugin-zoom'
import type { ZoomPluginOptions } from 'chartjs-plugin-zoom/types/options'
import { Chart } from './setup'

Chart.register(zoomPlugin)

/** Zoom and pan along the step axis only (a loss axis zoom is what the log toggle is for). */
export function stepZoomOptions(): ZoomPluginOptions {
  return {
    zoom: { wheel: { enabled: true }, pinch: { enabled: true }, drag: { enabled: false }, mode: 'x' },
    pan: { enabled: true, mode: 'x' },
    limits: { x: { min: 'original', max: 'original' } },
  }
}

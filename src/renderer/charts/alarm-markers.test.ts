import { describe, expect, it, vi } from 'vitest'
import type { Chart } from 'chart.js'
import type { TrainAlarm } from '../stores/metrics-buffers'
import { alarmMarkers } from './alarm-markers'

const alarm = (step: number, kind: TrainAlarm['kind'] = 'exploding'): TrainAlarm => ({
  sessionId: 's1',
  step,
  kind,
  layer: 'layers.1',
  parameter: null,
  message: `${kind} at step ${step}`,
  paused: true,
})

/** Just what the plugin reads of a chart: an x scale from step 0 to 100 over 200 px, and a 2-D context. */
function fakeChart() {
  const ctx = {
    save: vi.fn(),
    restore: vi.fn(),
    setLineDash: vi.fn(),
    beginPath: vi.fn(),
    moveTo: vi.fn(),
    lineTo: vi.fn(),
    stroke: vi.fn(),
    fillText: vi.fn(),
  } as Record<string, unknown>
  const chart = {
    ctx,
    chartArea: { top: 10, bottom: 110 },
    scales: { x: { min: 0, max: 100, getPixelForValue: (v: number) => 40 + 2 * v } },
  }
  return { chart: chart as unknown as Chart<'line'>, ctx }
}

type Hook = (chart: Chart<'line'>, args: unknown, options: unknown) => void

describe('alarm markers', () => {
  it('draws one labelled line per alarm inside the step range', () => {
    const alarms = [alarm(20), alarm(50, 'nan'), alarm(400)]
    const plugin = alarmMarkers({ alarms: () => alarms, onHover: () => undefined })
    const { chart, ctx } = fakeChart()
    ;(plugin.afterDatasetsDraw as Hook)(chart, {}, {})
    expect(plugin.drawn()).toBe(2)
    expect(ctx['moveTo']).toHaveBeenCalledWith(80, 10)
    expect(ctx['moveTo']).toHaveBeenCalledWith(140, 10)
    expect(ctx['fillText']).toHaveBeenCalledWith('nan', 140, 7)
  })

  it('reports the alarm under the pointer once, and null when the pointer leaves it', () => {
    const onHover = vi.fn()
    const plugin = alarmMarkers({ alarms: () => [alarm(20)], onHover })
    const { chart } = fakeChart()
    const move = (x: number, y = 50, type = 'mousemove') => (plugin.afterEvent as Hook)(chart, { event: { type, x, y } }, {})
    move(30)
    expect(onHover).not.toHaveBeenCalled()
    move(83) // within 5 px of the line at x = 80
    expect(onHover).toHaveBeenLastCalledWith({ alarm: alarm(20), x: 80, y: 50 })
    move(82)
    expect(onHover).toHaveBeenCalledTimes(1) // still the same marker: no repeat
    move(82, 50, 'mouseout')
    expect(onHover).toHaveBeenLastCalledWith(null)
  })
})

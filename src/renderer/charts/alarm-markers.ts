// A Chart.js plugin that draws each alarm of the run as a vertical line at its step, labelled with
// its kind, and reports which marker the pointer is over (the chart shows that alarm's message).
import type { Chart, Plugin } from 'chart.js'
import type { TrainAlarm } from '../stores/metrics-buffers'

const COLORS: Record<TrainAlarm['kind'], string> = { nan: '#ff5c6c', inf: '#ff5c6c', exploding: '#ffb86b', vanishing: '#6bd0ff' }
/** How close (CSS px) the pointer must be to a marker to hover it. */
const HOVER_PX = 5

export interface AlarmMarkerOptions {
  alarms: () => readonly TrainAlarm[]
  /** Called with the hovered alarm and where it is drawn, or null when the pointer leaves it. */
  onHover: (hit: { alarm: TrainAlarm; x: number; y: number } | null) => void
}

/** The alarms inside the chart's current step range, with their x pixel. */
function visible(chart: Chart, alarms: readonly TrainAlarm[]): { alarm: TrainAlarm; x: number }[] {
  const scale = chart.scales['x']
  if (!scale) return []
  return alarms.filter((a) => a.step >= scale.min && a.step <= scale.max).map((alarm) => ({ alarm, x: scale.getPixelForValue(alarm.step) }))
}

export function alarmMarkers(options: AlarmMarkerOptions): Plugin<'line'> & { drawn: () => number } {
  let drawn = 0
  /** Step and kind of the hovered marker ('' for none): a key, since the alarm list may be rebuilt. */
  let hovered = ''
  return {
    id: 'alarmMarkers',
    drawn: () => drawn,
    afterDatasetsDraw(chart) {
      const { ctx, chartArea } = chart
      const marks = visible(chart, options.alarms())
      drawn = marks.length
      ctx.save()
      ctx.setLineDash([4, 3])
      ctx.lineWidth = 1.5
      ctx.font = '10px system-ui, sans-serif'
      ctx.textAlign = 'center'
      for (const { alarm, x } of marks) {
        ctx.strokeStyle = ctx.fillStyle = COLORS[alarm.kind]
        ctx.beginPath()
        ctx.moveTo(x, chartArea.top)
        ctx.lineTo(x, chartArea.bottom)
        ctx.stroke()
        ctx.fillText(alarm.kind, x, chartArea.top - 3)
      }
      ctx.restore()
    },
    afterEvent(chart, args) {
      const e = args.event
      if (e.x === null || e.y === null) return
      const inside = e.type !== 'mouseout' && e.y >= chart.chartArea.top && e.y <= chart.chartArea.bottom
      const hit = inside ? visible(chart, options.alarms()).find((m) => Math.abs(m.x - e.x!) <= HOVER_PX) : undefined
      const key = hit ? `${hit.alarm.step}:${hit.alarm.kind}` : ''
      if (key === hovered) return
      hovered = key
      options.onHover(hit ? { alarm: hit.alarm, x: hit.x, y: e.y } : null)
    },
  }
}

// Chart.js with only what the studio draws (line and scatter charts on linear and log scales,
// decimated when long), and the shared dark-theme options. Registering piecemeal keeps the bundle small and tree-shaken.
import {
  Chart,
  Decimation,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  LogarithmicScale,
  PointElement,
  ScatterController,
  Tooltip,
  type ChartOptions,
} from 'chart.js'

Chart.register(LineController, ScatterController, LineElement, PointElement, LinearScale, LogarithmicScale, Legend, Tooltip, Decimation)

export { Chart }

export const THEME = {
  text: '#c9cede',
  muted: '#8a91a6',
  grid: 'rgba(154, 161, 181, 0.12)',
  /** Distinct on a dark background; layer i uses PALETTE[i % length]. */
  palette: ['#7aa2ff', '#c08bff', '#5fd4b0', '#ffb86b', '#ff7a85', '#e6d96b', '#6bd0ff', '#b0b8cc'],
} as const

Chart.defaults.color = THEME.muted
Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
Chart.defaults.borderColor = THEME.grid

/** Options every live chart shares: no animation, data already in {x, y} form, sorted by x. */
export function liveLineOptions(): ChartOptions<'line'> {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    parsing: false,
    normalized: true,
    spanGaps: true,
    interaction: { mode: 'nearest', axis: 'x', intersect: false },
    elements: { point: { radius: 0, hoverRadius: 3 }, line: { borderWidth: 1.75, tension: 0 } },
    plugins: {
      legend: { position: 'bottom', labels: { boxWidth: 12, boxHeight: 2, color: THEME.text } },
      tooltip: { animation: false },
    },
    scales: {
      x: { type: 'linear', title: { display: true, text: 'step' }, ticks: { maxTicksLimit: 8 }, grid: { color: THEME.grid } },
    },
  }
}

export { logTick } from './log-ticks'

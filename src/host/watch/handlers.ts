// watch.report: a PyTorch loop's report (studio_watch.py through serve mode's /api/watch), once the
// run store has indexed the runs found at startup.
import type { HandlerTable } from '../handlers/table'
import type { RunsHost } from '../runs/runs-host'
import type { WatchRuns } from './watch-runs'

export function watchHandlers(host: RunsHost, watch: WatchRuns): HandlerTable<'watch.report'> {
  return {
    'watch.report': async (report) => {
      await host.store?.ready
      return watch.report(report)
    },
  }
}

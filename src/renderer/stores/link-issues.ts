// Which of a link's fields the protocol refuses (a learning rate out of range, a residual across
// widths is the form's business, not this): the schema judges the form the link builds, and a field
// is blamed when leaving it out clears a problem without making another. Every data source the
// link configures is judged, not only the selected one, so a later switch finds nothing broken.
import { DATA_SOURCES, type SessionForm } from './session-form'
import { formIssues } from './session-form-issues'

/** The schema's problems with `form`, keyed by source and spec path. */
function problems(form: SessionForm): Record<string, string> {
  const out: Record<string, string> = {}
  for (const source of DATA_SOURCES) {
    // A file source with nothing chosen is judged when it has a file (the form says what to pick).
    if (source === 'csv' && (!form.csv.fileId || !form.csv.target)) continue
    if (source === 'idx' && (!form.idx.imagesFileId || !form.idx.labelsFileId)) continue
    const issues = formIssues({ ...form, source })
    for (const [path, message] of Object.entries(issues)) {
      if (source === form.source || path.startsWith('data.')) out[`${source === form.source ? '' : `${source}:`}${path}`] = message
    }
  }
  return out
}

/**
 * The fields to drop, each with the schema's words on it, in the order found. Problems no single
 * field explains stay (the form then shows them by their fields, as for any edit).
 */
export function linkFieldIssues<L>(leaves: readonly L[], build: (kept: readonly L[]) => SessionForm): { leaf: L; message: string }[] {
  const dropped: { leaf: L; message: string }[] = []
  let kept = [...leaves]
  while (kept.length) {
    const now = problems(build(kept))
    const keys = Object.keys(now)
    if (!keys.length) break
    let best: { leaf: L; cleared: string[] } | null = null
    for (const leaf of kept) {
      const without = problems(build(kept.filter((l) => l !== leaf)))
      const cleared = keys.filter((k) => !(k in without))
      const added = Object.keys(without).some((k) => !(k in now))
      if (cleared.length && !added && (!best || cleared.length > best.cleared.length)) best = { leaf, cleared }
    }
    if (!best) break
    const blamed = best.leaf
    dropped.push({ leaf: blamed, message: [...new Set(best.cleared.map((k) => now[k]))].join('; ') })
    kept = kept.filter((l) => l !== blamed)
  }
  return dropped
}

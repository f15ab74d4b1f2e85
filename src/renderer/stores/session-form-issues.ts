// What is wrong with the studio's form, by field and as one line for the banner, in words for
// people: the schema's verdict on the spec the form builds, plus what it cannot word well (a
// source with nothing chosen yet).
import { SessionSpec } from '../../shared/protocol'
import { fieldNameOfPath, issueForField, issueSentence } from '../../shared/issue-wording'
import { buildSpec, type SessionForm } from './session-form'

/** Problems the schema cannot word well: a source with nothing chosen yet. Path → message. */
function sourceIssues(form: SessionForm): Record<string, string> {
  if (form.source === 'csv') {
    if (!form.csv.fileId) return { 'data.fileId': 'upload a CSV file first' }
    if (!form.csv.target) return { 'data.target': 'choose the target column' }
    if (form.csv.features?.length === 0) return { 'data.features': 'choose at least one feature column' }
    if (form.csv.features?.includes(form.csv.target))
      return { 'data.features': `"${form.csv.target}" is the target, so it cannot also be a feature` }
  }
  if (form.source === 'idx') {
    if (!form.idx.imagesFileId) return { 'data.imagesFileId': 'upload an IDX images file first' }
    if (!form.idx.labelsFileId) return { 'data.labelsFileId': 'upload an IDX labels file first' }
    if (!!form.idx.testImagesFileId !== !!form.idx.testLabelsFileId)
      return { 'data.testLabelsFileId': 'a test pair needs both an images and a labels file' }
  }
  if (form.source === 'generator' && form.data.features.length === 0) return { 'data.features': 'choose at least one input feature' }
  return {}
}

/**
 * What is wrong with the form, by spec path (`model.hidden[2]`, `optimizer.lr`, `data.target`),
 * in words for people ("must be at most 10 (it is 50)"), so each message can sit next to its field. Empty when valid.
 */
export function formIssues(form: SessionForm): Record<string, string> {
  const local = sourceIssues(form)
  if (Object.keys(local).length) return local
  const spec = buildSpec(form)
  const parsed = SessionSpec.safeParse(spec)
  if (parsed.success) return {}
  const issues: Record<string, string> = {}
  for (const issue of parsed.error.issues) {
    const path = issue.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '')
    issues[path] ??= issueForField(issue, spec)
  }
  return issues
}

/** The message for a field: its own path, or anything under it (`model.hidden` covers `[2]`). */
export function issueAt(issues: Record<string, string>, path: string): string | null {
  for (const [p, message] of Object.entries(issues)) if (p === path || p.startsWith(`${path}.`) || p.startsWith(`${path}[`)) return message
  return null
}

/** A user-facing description of what is wrong with the form, or null when it is valid. */
export function validateForm(form: SessionForm): string | null {
  const local = Object.entries(sourceIssues(form))
  if (local.length) return local.map(([p, m]) => `${fieldNameOfPath(p)}: ${m}`).join('; ')
  const spec = buildSpec(form)
  const parsed = SessionSpec.safeParse(spec)
  return parsed.success
    ? null
    : parsed.error.issues
        .slice(0, 5)
        .map((i) => issueSentence(i, spec))
        .join('; ')
}

// Experiments as links: the whole training form in the URL hash, `#x=<version>.<base64url JSON>`,
// where the JSON holds only what differs from the form's defaults (short links for small changes).
// Pure: decoding never throws; it applies what is valid and says, field by field, what it dropped.
import { ACTIVATION_NAMES, BACKEND_CHOICES, BUNDLED_DATASETS, FEATURE_NAMES, GENERATOR_NAMES, INIT_NAMES } from '../../shared/protocol'
import { LOSS_NAMES } from '../../shared/model-rules'
import { TASKS } from '../../shared/protocol-data'
import { blocksOf } from '../../shared/model-blocks'
import { DATA_SOURCES, OPTIMIZER_TYPES, SCHEDULE_TYPES, defaultForm, type SessionForm } from './session-form'
import { linkFieldIssues } from './link-issues'

/**
 * The link format this build writes; links of a later format are read as far as they agree.
 * 2: csv.standardizeTarget exists (default true); a format-1 link trained on the raw target.
 * 3: l2Auto exists (default true: L2 follows the data, l2-default.ts); an older link's L2 is its own.
 */
export const LINK_VERSION = 3
/** The hash parameter that carries an experiment. */
const PREFIX = 'x='

/** File names by content id (what the link says to provide when the data directory lacks a file). */
export type LinkFiles = Record<string, string>

export interface DecodedLink {
  /** The form the link describes (defaults where it said nothing or was invalid); null when nothing could be read. */
  form: SessionForm | null
  files: LinkFiles
  /** What the user should know: fields dropped and why, a damaged or newer link, ignored fields. */
  messages: string[]
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** What differs from `base`, recursing into objects both sides have (arrays and nullables as wholes). */
export function formDiff(form: unknown, base: unknown): Json | undefined {
  if (isPlain(form) && isPlain(base)) {
    const out: Record<string, Json> = {}
    for (const [k, v] of Object.entries(form)) {
      const d = formDiff(v, base[k])
      if (d !== undefined) out[k] = d
    }
    return Object.keys(out).length ? out : undefined
  }
  // JSON, not structuredClone: the form is a reactive proxy, which cannot be cloned.
  const text = JSON.stringify(form)
  return text === JSON.stringify(base) ? undefined : (JSON.parse(text) as Json)
}

export function toBase64Url(text: string): string {
  let bin = ''
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b)
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** The text, or null when `s` is not base64url of UTF-8. */
export function fromBase64Url(s: string): string | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return null
  try {
    const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'))
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)))
  } catch {
    return null
  }
}

/** The files the form uses, by content id. */
export function formFileIds(form: SessionForm): string[] {
  const { idx } = form
  const ids =
    form.source === 'csv'
      ? [form.csv.fileId]
      : form.source === 'idx'
        ? [idx.imagesFileId, idx.labelsFileId, idx.testImagesFileId, idx.testLabelsFileId]
        : []
  return ids.filter((id): id is string => !!id)
}

/** The hash (without '#') for `form`; `names` gives the file names the link should mention. */
export function encodeLink(form: SessionForm, names: LinkFiles = {}): string {
  const payload: Record<string, Json> = { f: formDiff(form, defaultForm()) ?? {} }
  const files = Object.fromEntries(formFileIds(form).flatMap((id) => (names[id] ? [[id, names[id]]] : [])))
  if (Object.keys(files).length) payload['n'] = files
  return `${PREFIX}${LINK_VERSION}.${toBase64Url(JSON.stringify(payload))}`
}

/** Enumerated fields, so a bad name is caught even for a data source that is not selected. */
const ENUMS: Record<string, readonly string[]> = {
  source: DATA_SOURCES,
  'data.generator': GENERATOR_NAMES,
  'data.features': FEATURE_NAMES,
  'bundled.name': BUNDLED_DATASETS,
  'csv.task': ['auto', ...TASKS],
  activations: ACTIVATION_NAMES,
  init: INIT_NAMES,
  loss: LOSS_NAMES,
  'optimizer.type': OPTIMIZER_TYPES,
  'schedule.type': SCHEDULE_TYPES,
  backend: BACKEND_CHOICES,
}
/** Fields that may be null, with what they hold otherwise (their default is no guide when it is null). */
const NULLABLE: Record<string, unknown> = {
  'data.classes': 0,
  'csv.fileId': '',
  'csv.features': [''],
  'idx.imagesFileId': '',
  'idx.labelsFileId': '',
  // Added in link format 1 without a new version: older links leave them out and get the defaults.
  'csv.imageShape': [0],
  'idx.testImagesFileId': '',
  'idx.testLabelsFileId': '',
  'idx.classNames': [''],
  trainSeed: 0,
  clipNorm: 0,
  'stop.maxEpochs': 0,
  'stop.maxSteps': 0,
  'stop.targetLoss': 0,
  'stop.earlyStopping': { patience: 0, minDelta: 0 },
  maxStepsPerSecond: 0,
}

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)

/** Why `value` cannot stand at `path` (its kind or name), or null; ranges are the schema's business (link-issues.ts). */
function leafProblem(path: string, value: unknown, template: unknown): string | null {
  if (value === null) return path in NULLABLE ? null : 'must not be empty'
  const like = template === null ? NULLABLE[path] : template
  if (kind(value) !== kind(like)) return `must be ${kind(like) === 'array' ? 'a list' : `a ${kind(like)}`} (it is ${JSON.stringify(value)})`
  if (typeof value === 'number' && !Number.isFinite(value)) return 'must be a finite number'
  const items = Array.isArray(value) ? value : [value]
  const sample = Array.isArray(like) ? like[0] : like
  if (Array.isArray(value) && value.length > 64) return 'has too many entries'
  if (Array.isArray(like) && sample !== undefined && items.some((x) => kind(x) !== kind(sample))) return 'has entries of the wrong kind'
  const names = ENUMS[path]
  const bad = names && items.find((x) => !names.includes(x as string))
  if (bad !== undefined && names) return `"${String(bad)}" is not one of ${names.join(', ')}`
  return null
}

interface Leaf {
  path: string
  value: unknown
}

/** The link's fields as paths into the form; unknown ones are reported and left out. */
function leaves(diff: Record<string, unknown>, base: Record<string, unknown>, prefix: string, notes: string[]): Leaf[] {
  const out: Leaf[] = []
  for (const [k, v] of Object.entries(diff)) {
    const path = prefix + k
    if (!Object.hasOwn(base, k)) notes.push(`Link: ignored "${path}", which this version does not know.`)
    else if (isPlain(base[k]) && isPlain(v)) out.push(...leaves(v, base[k] as Record<string, unknown>, `${path}.`, notes))
    else out.push({ path, value: v })
  }
  return out
}

/** `form` with the leaves set, the hidden layers' activations and blocks kept aligned. */
export function applyLeaves(leavesToSet: readonly Leaf[]): SessionForm {
  const form = defaultForm()
  for (const { path, value } of leavesToSet) {
    const keys = path.split('.')
    let at = form as unknown as Record<string, unknown>
    for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>
    at[keys.at(-1)!] = structuredClone(value)
  }
  form.activations = form.hidden.map((_, i) => form.activations[i] ?? form.activations.at(-1) ?? 'tanh')
  form.blocks = blocksOf(form.hidden.length, form.blocks)
  return form
}

function readPayload(hash: string, messages: string[]): { payload: Record<string, unknown>; version: number } | null {
  const body = hash.replace(/^#/, '').slice(PREFIX.length)
  const m = /^(\d+)\.(.*)$/.exec(body)
  if (!m) {
    messages.push('The link is damaged: it should read #x=<version>.<settings>. The studio opened with its defaults.')
    return null
  }
  const version = Number(m[1])
  const text = fromBase64Url(m[2]!)
  if (text === null) {
    messages.push('The link is damaged: its settings are not valid base64url (was it cut short?). The studio opened with its defaults.')
    return null
  }
  let payload: unknown
  try {
    payload = JSON.parse(text)
  } catch {
    messages.push('The link is damaged: its settings are not valid JSON. The studio opened with its defaults.')
    return null
  }
  if (!isPlain(payload) || (payload['f'] !== undefined && !isPlain(payload['f']))) {
    messages.push('The link is damaged: its settings are not an object of fields. The studio opened with its defaults.')
    return null
  }
  return { payload, version }
}

/** Whether the hash carries an experiment at all (else the studio opens as usual). */
export function isLinkHash(hash: string): boolean {
  return hash.replace(/^#/, '').startsWith(PREFIX)
}

/** Read a link's hash (with or without '#'); null when the hash holds no experiment. */
export function decodeLink(hash: string): DecodedLink | null {
  if (!isLinkHash(hash)) return null
  const messages: string[] = []
  const read = readPayload(hash, messages)
  if (!read) return { form: null, files: {}, messages }
  const { payload, version } = read
  if (version > LINK_VERSION) {
    messages.push(
      `This link was made by a newer Backprop Studio (link format ${version}; this version reads format ${LINK_VERSION}). ` +
        'The settings it understands were applied; check the rest.',
    )
  }
  for (const k of Object.keys(payload)) if (k !== 'f' && k !== 'n') messages.push(`Link: ignored "${k}", which this version does not know.`)
  const base = defaultForm() as unknown as Record<string, unknown>
  const kept: Leaf[] = []
  for (const leaf of leaves((payload['f'] as Record<string, unknown> | undefined) ?? {}, base, '', messages)) {
    const template = leaf.path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], base)
    const problem = leafProblem(leaf.path, leaf.value, template)
    if (problem) messages.push(`Link: "${leaf.path}" was not applied: ${problem}.`)
    else kept.push(leaf)
  }
  // A format-1 link's CSV regression trained on the raw target: it still does.
  if (version < 2 && !kept.some((l) => l.path === 'csv.standardizeTarget')) kept.push({ path: 'csv.standardizeTarget', value: false })
  // An older link's L2 (0 when it said nothing) is what it trained with, regression or not: it stays.
  if (version < 3 && !kept.some((l) => l.path === 'l2Auto')) kept.push({ path: 'l2Auto', value: false })
  // Ranges and combinations: fields whose values the protocol refuses are dropped, one by one.
  for (const { leaf, message } of linkFieldIssues(kept, applyLeaves)) {
    kept.splice(kept.indexOf(leaf), 1)
    messages.push(`Link: "${leaf.path}" was not applied: ${message}.`)
  }
  const n = payload['n']
  const files: LinkFiles = {}
  if (isPlain(n)) for (const [id, name] of Object.entries(n)) if (typeof name === 'string' && /^f[0-9a-f]{16}$/.test(id)) files[id] = name
  return { form: applyLeaves(kept), files, messages }
}

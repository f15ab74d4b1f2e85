// What a page load starts from: this tab's session from before a reload (re-attached, history and
// all, when the host still has it and it is the experiment the address bar's link describes), else
// the session another open tab shows (a second tab continues it: tab-peers.ts), else the link's
// experiment, else the defaults. The tab remembers its session in sessionStorage.
import { storageGet, storageSet, type EngineClient } from '../engine'
import { formFileIds, type DecodedLink } from './link-codec'
import { buildSpec, type SessionForm } from './session-form'
import { formFromSpec } from './session-form-load'
import { watch, type Ref } from 'vue'
import type { RequestResult } from '../../shared/protocol'
import { announce, type PeerSession } from './tab-peers'

const SESSION_KEY = 'bps.session'

/** The session this tab shows, and the run it records into (which tells it apart from a namesake after a host restart). */
export interface Attachment {
  sessionId: string
  runId: string | null
}

export function rememberSession(a: Attachment | null): void {
  storageSet(SESSION_KEY, a && JSON.stringify(a))
}

export function rememberedSession(): Attachment | null {
  try {
    const a = JSON.parse(storageGet(SESSION_KEY) ?? 'null') as Partial<Attachment> | null
    if (typeof a?.sessionId !== 'string') return null
    return { sessionId: a.sessionId, runId: typeof a.runId === 'string' ? a.runId : null }
  } catch {
    return null
  }
}

/** Remember this tab's session for a reload, and keep the page's record of it (tab-peers.ts) for a second tab. */
export function keepAcrossTabs(info: Ref<RequestResult<'session.info'> | null>, state: Ref<RequestResult<'session.start'> | null>): void {
  const record = announce(() => {
    const i = info.value
    const s = state.value
    return i && s && { sessionId: i.state.sessionId, runId: i.runId ?? null, running: s.status === 'running', step: s.step }
  })
  watch([info, () => state.value?.status], () => record.changed())
  watch(info, (i) => rememberSession(i && { sessionId: i.state.sessionId, runId: i.runId ?? null }))
}

export interface Restorer {
  client: EngineClient
  /** Whether the server handed this page its sessions back (null: nobody says, as in Electron). */
  resumed: boolean | null
  /** The address bar's link (link.ts): read once, then it follows the form. */
  link: { readAddressBar(): DecodedLink | null; follow(apply: (form: SessionForm) => void): void }
  /** Show the host's session `id` (the session store's adopt: form, state and chart history). */
  adopt(id: string): Promise<void>
  /** The studio's form (edited in place: the stores watch it). */
  form: SessionForm
  notify(message: string): void
  /** The sessions this profile's other open tabs show, the one to continue first. */
  peers(): PeerSession[]
}

/** Whether two forms build the same session (settings of sources not in use aside). */
const sameExperiment = (a: SessionForm, b: SessionForm): boolean => JSON.stringify(buildSpec(a)) === JSON.stringify(buildSpec(b))

/**
 * Re-attach or set the form from the link; true when a session was re-attached (nothing to build).
 * From then on the address bar follows the form, and a link pasted into it is applied.
 */
export async function restore(r: Restorer): Promise<boolean> {
  const link = r.link.readAddressBar()
  const restored = await restoreFrom(r, link)
  r.link.follow((f) => Object.assign(r.form, f))
  return restored
}

async function restoreFrom(r: Restorer, link: DecodedLink | null): Promise<boolean> {
  const kept = rememberedSession()
  const linkForm = link?.form ?? null
  const setForm = (f: SessionForm): void => void Object.assign(r.form, f)
  if (kept && r.resumed !== false) {
    const info = await r.client.request('session.info', { sessionId: kept.sessionId }).catch(() => null)
    const ours = info !== null && (kept.runId === null || info.runId === kept.runId)
    if (ours && (!linkForm || sameExperiment(formFromSpec(info.spec), linkForm))) {
      await r.adopt(kept.sessionId)
      // The link also keeps the settings of the sources not in use, which the session's spec lacks.
      if (linkForm) setForm(linkForm)
      return true
    }
    // The address bar now names another experiment: this tab's old session is not wanted (another
    // tab showing it keeps it: the host only drops this tab's hold).
    if (ours) await r.client.request('session.dispose', { sessionId: kept.sessionId }).catch(() => undefined)
  }
  rememberSession(null)
  if (await continuePeer(r, linkForm)) return true
  if (linkForm) {
    setForm(linkForm)
    await checkFiles(r, linkForm, link?.files ?? {})
  }
  return false
}

/**
 * A second tab (or a duplicated one, whose copy of the first tab's session the server did not hand
 * back): show the session an open tab shows, unless the address bar names another experiment. This
 * tab then holds it too, so it lives on when the first tab closes.
 */
async function continuePeer(r: Restorer, linkForm: SessionForm | null): Promise<boolean> {
  for (const peer of r.peers()) {
    const info = await r.client.request('session.info', { sessionId: peer.sessionId }).catch(() => null)
    if (!info || (linkForm && !sameExperiment(formFromSpec(info.spec), linkForm))) continue
    const held = await r.client.request('session.attach', { sessionId: peer.sessionId }).then(
      () => true,
      () => false,
    )
    if (!held) continue
    await r.adopt(peer.sessionId)
    if (linkForm) Object.assign(r.form, linkForm)
    return true
  }
  return false
}

/** Uploads are named by content: say which file to provide when the data directory lacks one. */
async function checkFiles(r: Restorer, form: SessionForm, names: DecodedLink['files']): Promise<void> {
  for (const id of formFileIds(form)) {
    const found = await r.client.request('files.info', { fileId: id }).then(
      () => true,
      () => false,
    )
    if (found) continue
    const file = names[id] ? `the file "${names[id]}"` : 'an uploaded file'
    r.notify(
      `This link uses ${file} (content id ${id}), which this data directory does not have: ` +
        'upload that file (it is recognised by its content) and the link’s settings apply.',
    )
  }
}

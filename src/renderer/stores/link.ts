// The experiment link of the studio: the form, written into the address bar's hash as it changes
// (debounced, replaceState: no history entry per edit), read when the page opens or when another
// link is pasted into the address bar, and copied for sharing. The codec is link-codec.ts.
import { defineStore } from 'pinia'
import { computed, reactive, ref, watch } from 'vue'
import { DEEP_LINK_BASE } from '../../shared/share-link'
import { getBridge } from '../bridge'
import { getEngineClient } from '../engine'
import { decodeLink, encodeLink, formFileIds, isLinkHash, type DecodedLink } from './link-codec'
import { useFormStore } from './form'
import { useErrorsStore } from './errors'
import type { SessionForm } from './session-form'

/** How long the form must rest before the address bar follows it. */
export const LINK_WRITE_DELAY_MS = 250

export const useLinkStore = defineStore('link', () => {
  const client = getEngineClient()
  const formStore = useFormStore()
  const { pushError } = useErrorsStore()
  /** Uploaded files' names by content id, so a link can say which file to provide. */
  const names = reactive<Record<string, string>>({})
  const hash = computed(() => encodeLink(formStore.form, names))
  /** Whether the address bar follows the form (from the end of the first load on). */
  const writing = ref(false)

  watch(
    () => formFileIds(formStore.form).filter((id) => !(id in names)),
    (ids) => {
      for (const id of ids) {
        client
          .request('files.info', { fileId: id })
          .then((f) => (names[id] = f.name))
          .catch(() => undefined)
      }
    },
    { immediate: true },
  )

  // No page (unit tests run the stores in Node): nothing to read or write.
  const page = typeof window === 'undefined' ? null : window
  const write = (): void => page?.history.replaceState(page.history.state, '', `#${hash.value}`)
  let timer: ReturnType<typeof setTimeout> | undefined
  watch(hash, () => {
    if (!writing.value) return
    clearTimeout(timer)
    timer = setTimeout(write, LINK_WRITE_DELAY_MS)
  })

  /** The experiment the address bar holds (null: none), its messages already in the banner. */
  function readAddressBar(): DecodedLink | null {
    const decoded = decodeLink(page?.location.hash ?? '')
    for (const m of decoded?.messages ?? []) pushError(m)
    return decoded
  }

  let apply: ((form: SessionForm, files: DecodedLink['files']) => void) | null = null
  /** Start following the form; a link pasted into the address bar (or `open`ed) later replaces the form. */
  function follow(applyLink: (form: SessionForm, files: DecodedLink['files']) => void): void {
    const first = apply === null
    apply = applyLink
    writing.value = true
    write()
    if (!first || !page) return
    page.addEventListener('hashchange', () => {
      const now = page.location.hash
      if (isLinkHash(now) && now !== `#${hash.value}`) open(now)
    })
    // A reload right after an edit must not read a hash the debounce has not written yet.
    page.addEventListener('pagehide', write)
    // The desktop app: a deep link opened elsewhere (main/deep-link.ts), at launch or later.
    const bridge = getBridge()
    if (bridge) {
      bridge.onOpenLink((link) => void open(link))
      void bridge.takeOpenLink().then((r) => r.ok && r.result !== null && open(r.result))
    }
  }

  /** Open a link pasted as text (a full address or just its #x=… part); false when it holds no experiment. */
  function open(text: string): boolean {
    const at = text.indexOf('#')
    const decoded = decodeLink(at >= 0 ? text.slice(at) : text.trim())
    for (const m of decoded?.messages ?? []) pushError(m)
    if (!decoded?.form) return false
    apply?.(decoded.form, decoded.files)
    return true
  }

  /** The link to share: this page's address in a browser, the app's deep link in Electron. */
  function shareUrl(): string {
    if (getBridge()) return `${DEEP_LINK_BASE}#${hash.value}`
    return `${window.location.origin}${window.location.pathname}#${hash.value}`
  }

  /** Copy the link; false when the clipboard refused (the caller shows it to copy by hand). */
  async function copy(): Promise<boolean> {
    const bridge = getBridge()
    try {
      // The app denies the page's permissions (clipboard included): main writes the link instead.
      if (bridge) return (await bridge.copyLink(shareUrl())).ok
      await navigator.clipboard.writeText(shareUrl())
      return true
    } catch {
      return false
    }
  }

  return { hash, names, readAddressBar, follow, open, shareUrl, copy }
})

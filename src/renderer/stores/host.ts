// What the studio is running in: Electron (with versions from main) or a plain browser.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { AppInfo } from '../../shared/bridge'
import { getBridge } from '../bridge'

export const useHostStore = defineStore('host', () => {
  const bridge = getBridge()
  const kind = bridge ? 'electron' : 'browser'
  const version = bridge?.version ?? __APP_VERSION__
  const info = ref<AppInfo | null>(null)
  const error = ref<string | null>(null)

  const label = computed(() => {
    if (kind === 'browser') return 'browser'
    return info.value ? `Electron ${info.value.electron} · ${info.value.platform}` : 'Electron'
  })

  async function load(): Promise<void> {
    if (!bridge) return
    const reply = await bridge.getAppInfo()
    if (reply.ok) info.value = reply.result
    else error.value = reply.error.message
  }

  return { kind, version, info, error, label, load }
})

// The only place the renderer looks at the preload bridge. Outside Electron there is none.
import type { BackpropStudioBridge } from '../shared/bridge'

export function getBridge(): BackpropStudioBridge | undefined {
  const candidate = window.backpropStudio
  // Checked by shape, not presence: an element with id="backpropStudio" would also be a global.
  return typeof candidate?.getAppInfo === 'function' ? candidate : undefined
}

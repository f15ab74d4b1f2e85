import type { BackpropStudioBridge } from '../shared/bridge'

declare global {
  interface Window {
    /** Present only inside Electron (set by the preload); undefined in a plain browser. */
    backpropStudio?: BackpropStudioBridge
  }
}

export {}

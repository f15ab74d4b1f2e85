// What the desktop app copies for an experiment link: its own scheme with the link's hash. Shared so
// main accepts exactly what the renderer copies (main writes only such links to the clipboard).

/** The desktop app registers this scheme with the operating system (main/deep-link.ts). */
export const DEEP_LINK_SCHEME = 'backprop-studio'
/** The desktop app's links: opened anywhere, they open that experiment in the app. */
export const DEEP_LINK_BASE = `${DEEP_LINK_SCHEME}://open`
/** Links longer than this are not experiment links (the form's whole diff is far shorter). */
export const MAX_LINK_CHARS = 8192

/** Whether `text` is a desktop experiment link, `backprop-studio://open#x=<version>.<base64url>`. */
export function isShareLink(text: unknown): text is string {
  return typeof text === 'string' && text.length <= MAX_LINK_CHARS && /^backprop-studio:\/\/open#x=\d+\.[A-Za-z0-9_-]*$/.test(text)
}

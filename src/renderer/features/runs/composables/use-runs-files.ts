// Saving what the host exports (and chart images) as downloads: each file becomes a Blob and is
// handed to an <a download> on a blob: URL, one file at a time (no zip: a PyTorch export is a
// few files, and the browser saves each). Navigation-free, so the strict CSP has nothing to say.
import type { z } from 'zod'
import type { ExportedFile } from '../../../../shared/protocol-runs'

export type ExportFile = z.infer<typeof ExportedFile>

/** The bytes of a base64 string (atob is enough: exports are at most a few MB). */
export function base64ToBytes(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

export function fileToBlob(file: ExportFile): Blob {
  const part = file.encoding === 'base64' ? base64ToBytes(file.content) : file.content
  return new Blob([part], { type: file.mediaType })
}

/** A file name that is safe on every OS: no path separators or control characters. */
export function safeFileName(name: string): string {
  const cleaned = name
    // Control characters are exactly what a file name must not contain.
    // eslint-disable-next-line no-control-regex
    .replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '_')
    .replace(/^\.+/, '')
    .trim()
  return cleaned || 'download'
}

export function downloadBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = safeFileName(name)
  a.rel = 'noopener'
  document.body.append(a)
  a.click()
  a.remove()
  // The click has started the download synchronously; the URL can go once the event loop turns.
  setTimeout(() => URL.revokeObjectURL(url), 1_000)
}

/** Download every file of an export, in order. */
export function downloadFiles(files: readonly ExportFile[]): void {
  for (const f of files) downloadBlob(fileToBlob(f), f.name)
}

/** A canvas as a PNG download. */
export function downloadCanvas(canvas: HTMLCanvasElement, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => {
      if (!blob) return reject(new Error(`export chart: the canvas for ${name} could not be encoded as PNG`))
      downloadBlob(blob, name)
      resolve()
    }, 'image/png')
  })
}

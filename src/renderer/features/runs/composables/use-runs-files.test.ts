import { describe, expect, it } from 'vitest'
import { base64ToBytes, fileToBlob, safeFileName } from './use-runs-files'

describe('export files', () => {
  it('decodes base64 content to the exact bytes', () => {
    expect([...base64ToBytes('AAEC/w==')]).toEqual([0, 1, 2, 255])
  })

  it('makes a typed Blob from a binary file and from a text file', async () => {
    const bin = fileToBlob({ name: 'w.safetensors', mediaType: 'application/octet-stream', encoding: 'base64', content: 'AAEC/w==' })
    expect(bin.type).toBe('application/octet-stream')
    expect([...new Uint8Array(await bin.arrayBuffer())]).toEqual([0, 1, 2, 255])
    const text = fileToBlob({ name: 'model.py', mediaType: 'text/x-python', encoding: 'utf8', content: 'import torch\n# λ' })
    expect(await text.text()).toBe('import torch\n# λ')
  })

  it('keeps file names free of path separators and control characters', () => {
    expect(safeFileName('../../etc/passwd')).toBe('_.._etc_passwd')
    expect(safeFileName('run a: loss.png')).toBe('run a_ loss.png')
    expect(safeFileName('...')).toBe('download')
  })
})

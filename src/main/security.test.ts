import { describe, expect, it } from 'vitest'
import { devOrigin, fileOrigin, isAppUrl } from './security'

describe('isAppUrl', () => {
  const dev = devOrigin('http://127.0.0.1:5173/')
  const built = fileOrigin('file:///opt/app/out/renderer/index.html')

  it('accepts pages on the dev server origin and rejects other origins', () => {
    expect(isAppUrl('http://127.0.0.1:5173/#/train', dev)).toBe(true)
    expect(isAppUrl('http://127.0.0.1:5174/', dev)).toBe(false)
    expect(isAppUrl('http://localhost:5173/', dev)).toBe(false)
    expect(isAppUrl('https://example.com/', dev)).toBe(false)
  })

  it('accepts only the built index.html among file:// URLs, ignoring hash and query', () => {
    expect(isAppUrl('file:///opt/app/out/renderer/index.html', built)).toBe(true)
    expect(isAppUrl('file:///opt/app/out/renderer/index.html?x=1#/runs', built)).toBe(true)
    expect(isAppUrl('file:///opt/app/out/renderer/other.html', built)).toBe(false)
    expect(isAppUrl('file:///etc/passwd', built)).toBe(false)
    expect(isAppUrl('https://opt/app/out/renderer/index.html', built)).toBe(false)
  })

  it('rejects unparsable URLs and about:blank instead of throwing', () => {
    expect(isAppUrl('not a url', dev)).toBe(false)
    expect(isAppUrl('', built)).toBe(false)
    expect(isAppUrl('about:blank', built)).toBe(false)
  })
})

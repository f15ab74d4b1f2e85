import { describe, expect, it } from 'vitest'
import { shortcutFor, type FocusTarget, type KeyPress } from './shortcut-keys'

const key = (k: string, mods: Partial<KeyPress> = {}): KeyPress => ({
  key: k,
  altKey: false,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  defaultPrevented: false,
  ...mods,
})

/** A focused element: tag, input type, attributes, and the roles of its ancestors. */
function el(tagName: string, opts: { type?: string; role?: string; inside?: string[]; editable?: boolean } = {}): FocusTarget {
  const roles = [opts.role, ...(opts.inside ?? [])].filter(Boolean)
  return {
    tagName,
    isContentEditable: opts.editable ?? false,
    ...(opts.type === undefined ? {} : { type: opts.type }),
    getAttribute: (name) => (name === 'role' ? (opts.role ?? null) : null),
    closest: (selector) => roles.find((r) => selector.includes(`[role="${r}"]`)) ?? null,
  }
}

describe('shortcutFor', () => {
  it('Space plays/pauses and → steps with nothing focused, on buttons, chips and links', () => {
    for (const target of [null, el('BUTTON'), el('BUTTON', { role: 'radio', inside: ['radiogroup'] }), el('A'), el('SUMMARY'), el('DIV')]) {
      expect(shortcutFor(key(' '), target)).toBe('toggle')
    }
    for (const target of [null, el('BUTTON'), el('A'), el('DIV')]) expect(shortcutFor(key('ArrowRight'), target)).toBe('step')
  })

  it('leaves every key to text fields, selects, textareas and editable text', () => {
    for (const target of [
      el('INPUT', { type: 'text' }),
      el('INPUT', { type: 'number' }),
      el('INPUT'),
      el('SELECT'),
      el('TEXTAREA'),
      el('DIV', { editable: true }),
    ]) {
      expect(shortcutFor(key(' '), target)).toBeNull()
      expect(shortcutFor(key('ArrowRight'), target)).toBeNull()
    }
  })

  it('leaves Space to checkboxes and radio inputs, and → to sliders and arrow-key widgets', () => {
    expect(shortcutFor(key(' '), el('INPUT', { type: 'checkbox' }))).toBeNull()
    expect(shortcutFor(key(' '), el('INPUT', { type: 'radio' }))).toBeNull()
    expect(shortcutFor(key(' '), el('INPUT', { type: 'range' }))).toBe('toggle')
    expect(shortcutFor(key('ArrowRight'), el('INPUT', { type: 'range' }))).toBeNull()
    expect(shortcutFor(key('ArrowRight'), el('BUTTON', { role: 'tab', inside: ['tablist'] }))).toBeNull()
    expect(shortcutFor(key('ArrowRight'), el('BUTTON', { role: 'radio', inside: ['radiogroup'] }))).toBeNull()
  })

  it('ignores modified keys, other keys, and presses a handler already took', () => {
    for (const mods of [{ ctrlKey: true }, { altKey: true }, { metaKey: true }, { shiftKey: true }, { defaultPrevented: true }]) {
      expect(shortcutFor(key(' ', mods), el('BUTTON'))).toBeNull()
    }
    expect(shortcutFor(key('ArrowLeft'), null)).toBeNull()
    expect(shortcutFor(key('Enter'), el('BUTTON'))).toBeNull()
  })
})

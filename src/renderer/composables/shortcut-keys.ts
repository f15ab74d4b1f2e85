// The studio's training shortcuts, Playground-like: Space is play/pause and → is one step wherever
// focus is, chips and buttons included (Enter still activates those), except where the key already
// means something: typing in a text field, a select, a textarea or editable text; Space on a
// checkbox or radio input (Space is their only key); → on a slider or inside a widget that moves
// with the arrows (tabs, radio groups, listboxes, menus, grids).

export type Shortcut = 'toggle' | 'step'

/** What the key handler needs to know about a key press (a KeyboardEvent has all of it). */
export interface KeyPress {
  key: string
  altKey: boolean
  ctrlKey: boolean
  metaKey: boolean
  shiftKey: boolean
  defaultPrevented: boolean
}

/** What it needs to know about the focused element (an HTMLElement has all of it). */
export interface FocusTarget {
  tagName: string
  isContentEditable: boolean
  /** `type` of an input (lower case); absent for other elements. */
  type?: string
  getAttribute(name: string): string | null
  closest(selector: string): unknown
}

/** Input types whose Space and arrows belong to the input itself. */
const OWN_SPACE_INPUTS = new Set(['checkbox', 'radio'])
const ARROW_WIDGETS =
  '[role="tablist"], [role="radiogroup"], [role="listbox"], [role="menu"], [role="menubar"], [role="grid"], [role="tree"], [role="slider"]'

function typing(t: FocusTarget): boolean {
  if (t.isContentEditable) return true
  const tag = t.tagName.toUpperCase()
  if (tag === 'SELECT' || tag === 'TEXTAREA') return true
  // Every input but the buttons, checkboxes, radios and sliders takes text.
  return (
    tag === 'INPUT' && !['button', 'submit', 'reset', 'checkbox', 'radio', 'range', 'color', 'file', 'image'].includes(t.type ?? 'text')
  )
}

/** The shortcut a key press means with `target` focused, or null when the key belongs to the target. */
export function shortcutFor(ev: KeyPress, target: FocusTarget | null): Shortcut | null {
  if (ev.defaultPrevented || ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey) return null
  if (ev.key !== ' ' && ev.key !== 'ArrowRight') return null
  if (target === null) return ev.key === ' ' ? 'toggle' : 'step'
  if (typing(target)) return null
  const input = target.tagName.toUpperCase() === 'INPUT'
  if (ev.key === ' ') return input && OWN_SPACE_INPUTS.has(target.type ?? '') ? null : 'toggle'
  if (input && (target.type === 'range' || OWN_SPACE_INPUTS.has(target.type ?? ''))) return null
  return target.closest(ARROW_WIDGETS) ? null : 'step'
}

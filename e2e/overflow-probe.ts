// A script for page.evaluate (a string: the e2e specs are type-checked without the DOM library).
// It lists what sticks out sideways: the document wider than the window, any element whose right
// edge lies beyond the window, and any element beyond the right edge of the card it sits in,
// leaving out what lies inside a box that scrolls or clips (it is meant to be cut there).
export const OVERFLOW_PROBE = `(() => {
  const width = window.innerWidth
  const clipped = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) return true
    }
    return false
  }
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + [...el.classList].map((c) => '.' + c).join('')
  const out = []
  if (document.documentElement.scrollWidth > width) out.push('document scrollWidth ' + document.documentElement.scrollWidth + ' > ' + width)
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect()
    if (r.width > 0 && r.right > width + 0.5 && !clipped(el)) out.push(name(el) + ' right=' + Math.round(r.right))
  }
  for (const card of document.querySelectorAll('.card')) {
    const right = card.getBoundingClientRect().right
    for (const el of card.querySelectorAll('*')) {
      const r = el.getBoundingClientRect()
      if (r.width > 0 && r.right > right + 0.5 && !clipped(el))
        out.push(name(el) + ' right=' + Math.round(r.right) + ' beyond its card (' + Math.round(right) + ')')
    }
  }
  return out
})()`

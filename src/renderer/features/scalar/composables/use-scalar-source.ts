// Where a parse error points: the host's message names a line and column ("line 2, col 5"); the
// editor shows that line with a caret under the column.

export interface SourceError {
  message: string
  /** 1-based, when the message names a position. */
  line: number | null
  col: number | null
  /** The offending source line, for the caret display. */
  excerpt: string | null
}

const POSITION_PATTERNS = [/line (\d+)\s*[,:]?\s*col(?:umn)?\.? (\d+)/i, /\b(\d+):(\d+)\b/]

export function locateError(message: string, source: string): SourceError {
  for (const pattern of POSITION_PATTERNS) {
    const m = pattern.exec(message)
    if (!m) continue
    const line = Number(m[1])
    const col = Number(m[2])
    const lines = source.split(/\r?\n/)
    // The editor prints the position itself ("line 2, col 9"), so a message that starts with it
    // loses it here rather than saying it twice.
    const rest = m.index === 0 ? message.slice(m[0].length).replace(/^\s*[:,]\s*/, '') : message
    return { message: rest || message, line, col, excerpt: lines[line - 1] ?? null }
  }
  return { message, line: null, col: null, excerpt: null }
}

/** The message without the prefixes naming the request and the engine op (`scalar.evaluate: expression: `). */
export function stripKind(message: string): string {
  return message.replace(/^(?:scalar\.evaluate|expression):\s*/, '').replace(/^expression:\s*/, '')
}

/** The character offset of (line, col) in `source`, to put the editor's cursor on the error. */
export function offsetOf(source: string, line: number, col: number): number {
  const lines = source.split('\n')
  let offset = 0
  for (let i = 0; i < Math.min(line - 1, lines.length); i++) offset += lines[i]!.length + 1
  return Math.min(source.length, offset + Math.max(0, col - 1))
}

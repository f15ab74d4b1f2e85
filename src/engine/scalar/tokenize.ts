// The expression language's tokenizer, and the error every stage of reading a program throws:
// numbers, names, operators, statement separators (newline, ';'), with '#' comments skipped.

import { EngineError } from '../errors'

/** A parse or evaluation error: an EngineError that also says where, for the editor to mark. */
export class ExpressionError extends EngineError {
  constructor(
    readonly line: number,
    readonly column: number,
    readonly detail: string,
  ) {
    super('expression', 'syntax', `line ${line}, col ${column}: ${detail}`)
  }
}

export type TokenKind = 'num' | 'name' | 'op' | 'sep' | 'eof'
export interface Token {
  kind: TokenKind
  text: string
  line: number
  col: number
}

const OPERATORS = ['**', '+=', '-=', '*=', '/=', '+', '-', '*', '/', '^', '(', ')', ',', '=']
// Sticky, so they match exactly at lastIndex without slicing the source.
const NUMBER = /(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y

function matchAt(re: RegExp, source: string, i: number): string | null {
  re.lastIndex = i
  return re.exec(source)?.[0] ?? null
}

export function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  let line = 1
  let lineStart = 0
  let i = 0
  while (i < source.length) {
    const ch = source[i]!
    const col = i - lineStart + 1
    if (ch === '\n') {
      tokens.push({ kind: 'sep', text: '\n', line, col })
      line++
      lineStart = ++i
      continue
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++
      continue
    }
    if (ch === '#') {
      while (i < source.length && source[i] !== '\n') i++
      continue
    }
    if (ch === ';') {
      tokens.push({ kind: 'sep', text: ';', line, col })
      i++
      continue
    }
    const word = matchAt(NUMBER, source, i) ?? matchAt(NAME, source, i)
    if (word) {
      tokens.push({ kind: /[\d.]/.test(ch) ? 'num' : 'name', text: word, line, col })
      i += word.length
      continue
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i))
    if (op) {
      tokens.push({ kind: 'op', text: op, line, col })
      i += op.length
      continue
    }
    throw new ExpressionError(line, col, `unexpected character '${ch}'`)
  }
  tokens.push({ kind: 'eof', text: '', line, col: i - lineStart + 1 })
  return tokens
}

// One error type for everything the engine rejects: it names the op, the argument and the shapes,
// so a message shown in the UI says what to fix.

export type EngineErrorCode =
  | 'shape'
  | 'dtype'
  | 'argument'
  | 'backward'
  | 'backend'
  | 'nan'
  | 'data'
  /** a program of the scalar explainer's expression language does not parse or evaluate */
  | 'syntax'

export class EngineError extends Error {
  readonly code: EngineErrorCode
  readonly op: string

  constructor(op: string, code: EngineErrorCode, message: string) {
    super(`${op}: ${message}`)
    this.name = 'EngineError'
    this.op = op
    this.code = code
  }
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`
}

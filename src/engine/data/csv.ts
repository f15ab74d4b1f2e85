// CSV tables: text → header + rows of cells (papaparse does the quoting, delimiter guessing and line
// endings), column type inference for the import dialog, and table → Dataset for training. Pure TS
// like the rest of the engine (the host reads files and handles gzip). Every malformed input is an
// EngineError (code 'data') that names the row and/or column. Rows are numbered as a spreadsheet
// shows them: the header is row 1, the first data row is row 2.

import { EngineError } from '../errors.js'
import { type CsvTable, csvNumber } from './csv-reader.js'
import { type Dataset, type Task, validateDataset } from './dataset.js'

export { CSV_DICT_CAP, CsvReader, CsvTable, csvNumber, parseCsv, type CsvLimits } from './csv-reader.js'

export interface CsvColumnInfo {
  name: string
  type: 'numeric' | 'categorical'
  /** Empty cells. */
  missing: number
  /** Distinct non-empty values, counted up to DISTINCT_CAP. */
  distinct: number
  /** Up to five distinct non-empty values, in order of appearance. */
  examples: string[]
}

/** Distinct values are counted up to this many (then it means "this many or more"). */
export const DISTINCT_CAP = 1000
/** Most classes a classification target may have. */
export const MAX_CSV_CLASSES = 256
/** Most values a categorical feature may have (each becomes one 0/1 input column). */
export const MAX_ONE_HOT = 64
/** With task 'auto', an integer target with at most this many distinct values is a class label. */
export const AUTO_CLASS_MAX = 20
/** The largest finite float32: the dataset stores values as float32. */
const FLOAT32_MAX = 3.4028234663852886e38

/**
 * Per column: numeric (most non-empty cells are numbers, so a few stray words are reported as bad
 * cells by csvDataset rather than hiding the column) or categorical, missing and distinct counts.
 */
export function describeColumns(table: CsvTable): CsvColumnInfo[] {
  return table.columns.map((name, j) => {
    let missing = 0
    let numbers = 0
    const distinct = new Set<string>()
    // Canonical numbers are told apart by value, so most cells never become strings.
    const seen = new Set<number>()
    for (let i = 0; i < table.n; i++) {
      const v = table.number(i, j)
      const number = !Number.isNaN(v)
      if (number) numbers++
      // Once the count is full only empty cells matter, and a number is never one.
      if (number && distinct.size >= DISTINCT_CAP) continue
      if (table.canonical(i, j)) {
        if (seen.has(v)) continue
        seen.add(v)
      }
      const cell = table.text(i, j)
      if (cell === '') missing++
      else if (cell !== null && distinct.size < DISTINCT_CAP) distinct.add(cell)
    }
    const filled = table.n - missing
    return {
      name,
      type: filled > 0 && numbers > filled / 2 ? 'numeric' : 'categorical',
      missing,
      distinct: distinct.size,
      examples: [...distinct].slice(0, 5),
    }
  })
}

export interface CsvDatasetOptions {
  name: string
  target: string
  /** Feature columns in order; default: every numeric column except the target. */
  features?: readonly string[]
  task?: Task | 'auto'
  /** Class names in class-index order (default: the target's distinct values, sorted). */
  classOrder?: readonly string[]
}

/** Sorts class values numerically when both are numbers, else as text. */
function compareClass(a: string, b: string): number {
  const x = csvNumber(a)
  const y = csvNumber(b)
  if (x !== null && y !== null) return x - y || (a < b ? -1 : a > b ? 1 : 0)
  return a < b ? -1 : a > b ? 1 : 0
}

/** Why a number cell stored as ±Infinity (float32 overflow) could not be kept. */
function tooLarge(table: CsvTable, i: number, j: number): string {
  const text = table.text(i, j)
  const v = text === null ? null : csvNumber(text, table.decimalComma)
  if (v === null || !Number.isFinite(v)) return `${text ?? 'a value'} is too large for a 64-bit float (it overflows to Infinity)`
  return `${text} is too large for a 32-bit float, which the dataset stores (the largest is about ${FLOAT32_MAX.toPrecision(2)})`
}

/** The distinct non-empty texts of column j, or null when there are more than DISTINCT_CAP. */
function distinctTexts(table: CsvTable, j: number): string[] | null {
  const seen = new Set<string>()
  for (let i = 0; i < table.n; i++) {
    const cell = table.text(i, j)
    if (cell === null) return null
    if (cell === '') continue
    seen.add(cell)
    if (seen.size > DISTINCT_CAP) return null
  }
  return [...seen]
}

/**
 * A dataset from a table: x the chosen feature columns (raw values; a categorical column chosen
 * explicitly becomes one 0/1 column per value, named `column=value`, values sorted), y the class
 * index or the target value. Refuses, naming the row (as a spreadsheet numbers it) and column: a
 * target or feature that is not a column, a feature listed twice or equal to the target, a cell
 * that is not a number or too large to store, an empty cell, a categorical feature with too many
 * values, a classification target with one class or too many.
 */
export function csvDataset(table: CsvTable, opts: CsvDatasetOptions): Dataset & { classNames?: string[] } {
  const fail = (msg: string): never => {
    throw new EngineError('csvDataset', 'data', `${opts.name}: ${msg}`)
  }
  const { columns, rowNumbers, n } = table
  const list = (names: readonly string[]): string => names.map((c) => `"${c}"`).join(', ')
  const col = (name: string, what: string): number => {
    const j = columns.indexOf(name)
    if (j < 0) fail(`${what} "${name}" is not a column (columns: ${list(columns.slice(0, 20))}${columns.length > 20 ? ', …' : ''})`)
    return j
  }
  const text = (i: number, j: number): string => table.text(i, j) ?? `${table.number(i, j)}`
  const t = col(opts.target, 'target')
  const info = describeColumns(table)
  const featureNames = opts.features ? [...opts.features] : columns.filter((c, j) => j !== t && info[j].type === 'numeric')
  if (featureNames.length === 0) fail(`no numeric column besides the target "${opts.target}" to use as a feature`)
  // One input per numeric column; one per value (1 where the cell holds it) for a categorical one.
  const inputs: { j: number; name: string; value?: string }[] = []
  featureNames.forEach((name, k) => {
    const j = col(name, 'feature')
    if (featureNames.indexOf(name) !== k) fail(`feature "${name}" is listed twice`)
    if (j === t) fail(`"${name}" is the target; it cannot also be a feature`)
    if (info[j].type === 'numeric') {
      inputs.push({ j, name })
      return
    }
    if (info[j].missing === n) fail(`column "${name}" is empty`)
    const values = distinctTexts(table, j)?.sort(compareClass)
    if (!values || values.length > MAX_ONE_HOT) {
      fail(
        `column "${name}" is categorical with ${values ? values.length : `more than ${DISTINCT_CAP}`} distinct values, too many to one-hot encode (at most ${MAX_ONE_HOT}); leave it out`,
      )
    }
    for (const value of values!) inputs.push({ j, name: `${name}=${value}`, value })
  })

  const f = inputs.length
  const x = new Float32Array(n * f)
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < f; k++) {
      const { j, value } = inputs[k]
      const cell = table.text(i, j)
      if (cell === '')
        fail(`row ${rowNumbers[i]}, column "${columns[j]}" is empty (missing values are not supported: fill or remove the row)`)
      if (value !== undefined) {
        x[i * f + k] = Number(cell === value)
        continue
      }
      const v = table.number(i, j)
      if (Number.isNaN(v)) fail(`row ${rowNumbers[i]}, column "${columns[j]}": "${text(i, j)}" is not a number`)
      if (!Number.isFinite(v)) fail(`row ${rowNumbers[i]}, column "${columns[j]}": ${tooLarge(table, i, j)}`)
      x[i * f + k] = v
    }
  }
  const inputNames = inputs.map((c) => c.name)

  for (let i = 0; i < n; i++) if (table.text(i, t) === '') fail(`row ${rowNumbers[i]}, column "${opts.target}" (the target) is empty`)
  const numericTarget = info[t].type === 'numeric'
  let task = opts.task ?? 'auto'
  if (task === 'auto') {
    let integers = numericTarget
    for (let i = 0; integers && i < n; i++) integers = Number.isInteger(table.number(i, t))
    const classes = !numericTarget || (integers && info[t].distinct <= AUTO_CLASS_MAX)
    task = classes ? (info[t].distinct === 2 ? 'binary' : 'multiclass') : 'regression'
  }
  const y = new Float32Array(n)
  if (task === 'regression') {
    for (let i = 0; i < n; i++) {
      const v = table.number(i, t)
      if (Number.isNaN(v)) fail(`row ${rowNumbers[i]}, column "${opts.target}" (the regression target): "${text(i, t)}" is not a number`)
      if (!Number.isFinite(v)) fail(`row ${rowNumbers[i]}, column "${opts.target}" (the regression target): ${tooLarge(table, i, t)}`)
      y[i] = v
    }
    const ds: Dataset = { name: opts.name, task, x, y, n, nFeatures: f, nClasses: 0, featureNames: inputNames }
    validateDataset(ds)
    return ds
  }

  const found = opts.classOrder ? [...opts.classOrder] : distinctTexts(table, t)
  if (!found || found.length > MAX_CSV_CLASSES) {
    const count = found ? found.length : `more than ${DISTINCT_CAP}`
    fail(
      `the target "${opts.target}" has ${count} distinct values, more than the ${MAX_CSV_CLASSES} classes allowed (is it a regression target or an id?)`,
    )
  }
  const classNames = opts.classOrder ? found! : found!.sort(compareClass)
  if (classNames.length < 2) fail(`the target "${opts.target}" has only one class ("${classNames[0]}"); classification needs at least 2`)
  if (task === 'binary' && classNames.length !== 2)
    fail(`task binary needs 2 classes, but the target "${opts.target}" has ${classNames.length}`)
  const index = new Map(classNames.map((c, k) => [c, k]))
  for (let i = 0; i < n; i++) {
    const k = index.get(text(i, t))
    if (k === undefined)
      fail(`row ${rowNumbers[i]}, column "${opts.target}": "${text(i, t)}" is not one of the classes ${list(classNames)}`)
    y[i] = k as number
  }
  const ds = { name: opts.name, task, x, y, n, nFeatures: f, nClasses: classNames.length, featureNames: inputNames, classNames }
  validateDataset(ds)
  return ds
}

// CSV tables: text → header + rows of cells (papaparse does the quoting, delimiter guessing and line
// endings), column type inference for the import dialog, and table → Dataset for training. Pure TS
// like the rest of the engine (the host reads files and handles gzip). Every malformed input is an
// EngineError (code 'data') that names the row and/or column. Rows are numbered as a spreadsheet
// shows them: the header is row 1, the first data row is row 2.

import Papa from 'papaparse'
import { EngineError } from '../errors.js'
import { type Dataset, type Task, validateDataset } from './dataset.js'

export interface CsvTable {
  columns: string[]
  /** Data rows (header excluded), each exactly columns.length cells, untrimmed. */
  rows: string[][]
  /** File row number (header = 1) of each data row, so later errors can point at the file. */
  rowNumbers: number[]
  delimiter: string
  /** Worth telling the user but not errors: a guessed delimiter, skipped blank rows, a BOM. */
  warnings: string[]
}

export interface CsvLimits {
  maxRows?: number
  maxColumns?: number
}

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

const DELIMITERS = [',', ';', '\t']
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const delimiterName = (d: string): string => (d === '\t' ? 'tab' : `"${d}"`)

/**
 * A cell as a number, or null when it is not one (empty, text, NaN, Infinity). With decimalComma
 * (a semicolon-separated file, as European spreadsheets write them) "1,5" reads as 1.5.
 */
export function csvNumber(cell: string, decimalComma = false): number | null {
  let s = cell.trim()
  if (decimalComma && !s.includes('.')) s = s.replace(',', '.')
  return NUMBER.test(s) ? Number(s) : null
}

/** Semicolon-separated files may write decimals with a comma. */
const commaDecimals = (table: CsvTable): boolean => table.delimiter === ';'

/**
 * Splits CSV text into a header and rows. Accepts a BOM, CRLF or LF, quoted fields (with quotes,
 * delimiters and line breaks inside), and comma, semicolon or tab delimiters (guessed). Blank rows
 * are skipped. Refuses: an empty file, a header without data rows, empty or duplicate column names,
 * rows with a different number of fields than the header, broken quoting, and more rows or columns
 * than the limits.
 */
export function parseCsv(text: string, source = 'CSV', limits: CsvLimits = {}): CsvTable {
  const fail = (msg: string): never => {
    throw new EngineError('parseCsv', 'data', `${source}: ${msg}`)
  }
  const warnings: string[] = []
  let body = text
  if (body.charCodeAt(0) === 0xfeff) body = body.slice(1)
  if (body.trim() === '') fail('the file is empty')
  const parsed = Papa.parse<string[]>(body, { delimiter: '', delimitersToGuess: DELIMITERS, skipEmptyLines: false })
  const quoteError = parsed.errors.find((e) => e.type === 'Quotes')
  if (quoteError) {
    const what = quoteError.code === 'MissingQuotes' ? 'a quoted field is never closed' : 'a quote inside a quoted field is not doubled ("")'
    fail(`row ${(quoteError.row ?? 0) + 1}: ${what}`)
  }
  const delimiter = parsed.meta.delimiter
  if (delimiter !== ',') warnings.push(`columns are separated by ${delimiterName(delimiter)}`)

  const all = parsed.data
  const blank = (r: string[]): boolean => r.length === 1 && r[0].trim() === ''
  let h = 0
  while (h < all.length && blank(all[h])) h++
  const columns = all[h].map((c) => c.trim())
  if (limits.maxColumns !== undefined && columns.length > limits.maxColumns) fail(`the header has ${columns.length} columns, more than the ${limits.maxColumns} allowed`)
  columns.forEach((name, j) => {
    if (name === '') fail(`column ${j + 1} has an empty name in the header row`)
    const first = columns.indexOf(name)
    if (first !== j) fail(`column name "${name}" appears twice in the header row (columns ${first + 1} and ${j + 1})`)
  })

  const rows: string[][] = []
  const rowNumbers: number[] = []
  let skipped = 0
  for (let i = h + 1; i < all.length; i++) {
    const r = all[i]
    if (blank(r)) {
      if (i < all.length - 1) skipped++
      continue
    }
    if (r.length !== columns.length) fail(`row ${i + 1} has ${r.length} field${r.length === 1 ? '' : 's'}, expected ${columns.length} (as in the header)`)
    if (limits.maxRows !== undefined && rows.length >= limits.maxRows) fail(`more than ${limits.maxRows} data rows (the most a dataset may have)`)
    rows.push(r)
    rowNumbers.push(i + 1)
  }
  if (rows.length === 0) fail('the file has a header row but no data rows')
  if (skipped > 0) warnings.push(`${skipped} blank row${skipped === 1 ? ' was' : 's were'} skipped`)
  if (body !== text) warnings.push('a byte order mark (BOM) at the start was ignored')
  return { columns, rows, rowNumbers, delimiter, warnings }
}

/**
 * Per column: numeric (most non-empty cells are numbers, so a few stray words are reported as bad
 * cells by csvDataset rather than hiding the column) or categorical, missing and distinct counts.
 */
export function describeColumns(table: CsvTable): CsvColumnInfo[] {
  const dc = commaDecimals(table)
  return table.columns.map((name, j) => {
    let missing = 0
    let numbers = 0
    const distinct = new Set<string>()
    for (const row of table.rows) {
      const cell = row[j].trim()
      if (cell === '') {
        missing++
        continue
      }
      if (csvNumber(cell, dc) !== null) numbers++
      if (distinct.size < DISTINCT_CAP) distinct.add(cell)
    }
    const filled = table.rows.length - missing
    return { name, type: filled > 0 && numbers > filled / 2 ? 'numeric' : 'categorical', missing, distinct: distinct.size, examples: [...distinct].slice(0, 5) }
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

/**
 * A dataset from a table: x the chosen feature columns (raw values; a categorical column chosen
 * explicitly becomes one 0/1 column per value, named `column=value`, values sorted), y the class
 * index or the target value. Refuses, naming the row and column: a target or feature that is not a
 * column, a feature listed twice or equal to the target, a cell that is not a number, an empty
 * cell, a categorical feature with too many values, a classification target with one class or
 * too many.
 */
export function csvDataset(table: CsvTable, opts: CsvDatasetOptions): Dataset & { classNames?: string[] } {
  const fail = (msg: string): never => {
    throw new EngineError('csvDataset', 'data', `${opts.name}: ${msg}`)
  }
  const { columns, rows, rowNumbers } = table
  const dc = commaDecimals(table)
  const list = (names: readonly string[]): string => names.map((c) => `"${c}"`).join(', ')
  const col = (name: string, what: string): number => {
    const j = columns.indexOf(name)
    if (j < 0) fail(`${what} "${name}" is not a column (columns: ${list(columns.slice(0, 20))}${columns.length > 20 ? ', …' : ''})`)
    return j
  }
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
    if (info[j].missing === rows.length) fail(`column "${name}" is empty`)
    const values = [...new Set(rows.map((r) => r[j].trim()).filter((v) => v !== ''))].sort(compareClass)
    if (values.length > MAX_ONE_HOT) fail(`column "${name}" is categorical with ${values.length} distinct values, too many to one-hot encode (at most ${MAX_ONE_HOT}); leave it out`)
    for (const value of values) inputs.push({ j, name: `${name}=${value}`, value })
  })

  const n = rows.length
  const f = inputs.length
  const x = new Float32Array(n * f)
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < f; k++) {
      const { j, value } = inputs[k]
      const cell = rows[i][j].trim()
      if (cell === '') fail(`row ${rowNumbers[i]}, column "${columns[j]}" is empty (missing values are not supported: fill or remove the row)`)
      const v = value !== undefined ? Number(cell === value) : csvNumber(cell, dc)
      if (v === null) fail(`row ${rowNumbers[i]}, column "${columns[j]}": "${cell}" is not a number`)
      x[i * f + k] = v as number
    }
  }
  const inputNames = inputs.map((c) => c.name)

  const targetCells = rows.map((r, i) => {
    const cell = r[t].trim()
    if (cell === '') fail(`row ${rowNumbers[i]}, column "${opts.target}" (the target) is empty`)
    return cell
  })
  const numericTarget = info[t].type === 'numeric'
  let task = opts.task ?? 'auto'
  if (task === 'auto') {
    const integers = numericTarget && targetCells.every((c) => Number.isInteger(csvNumber(c, dc)))
    const classes = !numericTarget || (integers && info[t].distinct <= AUTO_CLASS_MAX)
    task = classes ? (info[t].distinct === 2 ? 'binary' : 'multiclass') : 'regression'
  }
  const y = new Float32Array(n)
  if (task === 'regression') {
    targetCells.forEach((cell, i) => {
      const v = csvNumber(cell, dc)
      if (v === null) fail(`row ${rowNumbers[i]}, column "${opts.target}" (the regression target): "${cell}" is not a number`)
      y[i] = v as number
    })
    const ds: Dataset = { name: opts.name, task, x, y, n, nFeatures: f, nClasses: 0, featureNames: inputNames }
    validateDataset(ds)
    return ds
  }

  const classNames = opts.classOrder ? [...opts.classOrder] : [...new Set(targetCells)].sort(compareClass)
  if (classNames.length < 2) fail(`the target "${opts.target}" has only one class ("${classNames[0]}"); classification needs at least 2`)
  if (classNames.length > MAX_CSV_CLASSES) fail(`the target "${opts.target}" has ${classNames.length} distinct values, more than the ${MAX_CSV_CLASSES} classes allowed (is it a regression target or an id?)`)
  if (task === 'binary' && classNames.length !== 2) fail(`task binary needs 2 classes, but the target "${opts.target}" has ${classNames.length}`)
  const index = new Map(classNames.map((c, k) => [c, k]))
  targetCells.forEach((cell, i) => {
    const k = index.get(cell)
    if (k === undefined) fail(`row ${rowNumbers[i]}, column "${opts.target}": "${cell}" is not one of the classes ${list(classNames)}`)
    y[i] = k as number
  })
  const ds = { name: opts.name, task, x, y, n, nFeatures: f, nClasses: classNames.length, featureNames: inputNames, classNames }
  validateDataset(ds)
  return ds
}

// Incremental CSV reading into a compact table. Text arrives in pieces (a file being inflated, or
// one string cut into slices); papaparse's ParserHandle parses each piece and carries the
// unfinished last row over, as its own streamers do. Limits on rows, columns, cells and the length
// of one row are checked as rows arrive, so a file far over them stops at the first row past the
// limit instead of being parsed whole. Cells are kept per column as float32 numbers plus, only for
// cells whose text a number does not reproduce, a small per-column dictionary: memory stays
// proportional to the cell count, never to rows × string objects.
import Papa from 'papaparse'
import { EngineError } from '../errors.js'

export interface CsvLimits {
  maxRows?: number
  maxColumns?: number
  /** Rows × columns. */
  maxCells?: number
  /** Characters in one row (a row still unfinished past this is refused). */
  maxRowChars?: number
}

/** A cell's code: its text is String(number) (CANONICAL), unknown (OVERFLOW), or dict[code]. */
const CANONICAL = -1
const OVERFLOW = -2
/** Distinct non-canonical texts kept per column: more than any class or one-hot limit needs. */
export const CSV_DICT_CAP = 1024
/** Characters of one row unless the limits say otherwise. */
export const MAX_ROW_CHARS = 4 * 1024 * 1024
/** The first parse waits for this many rows or characters (papaparse guesses from 10 rows). */
const GUESS_ROWS = 10
const GUESS_CHARS = 64 * 1024
/** Text is fed to the parser in slices this long when it is given whole. */
const SLICE_CHARS = 1 << 20

const DELIMITERS = [',', ';', '\t']
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const delimiterName = (d: string): string => (d === '\t' ? 'tab' : `"${d}"`)

/**
 * A cell as a number, or null when it is not one (empty, text, NaN, Infinity). With decimalComma
 * (a semicolon-separated file, as European spreadsheets write them) "1,5" reads as 1.5. A number
 * too large for a float64 (1e309) reads as ±Infinity: the dataset refuses it, saying it overflows.
 */
export function csvNumber(cell: string, decimalComma = false): number | null {
  let s = cell.trim()
  if (decimalComma && !s.includes('.')) s = s.replace(',', '.')
  return NUMBER.test(s) ? Number(s) : null
}

class Column {
  num: Float32Array
  codes: Int16Array | null = null
  readonly dict: string[] = []
  private readonly index = new Map<string, number>()
  constructor(capacity: number) {
    this.num = new Float32Array(capacity)
  }
  grow(capacity: number): void {
    const num = new Float32Array(capacity)
    num.set(this.num)
    this.num = num
    if (this.codes) {
      const codes = new Int16Array(capacity).fill(CANONICAL)
      codes.set(this.codes)
      this.codes = codes
    }
  }
  set(i: number, cell: string, decimalComma: boolean): void {
    const v = csvNumber(cell, decimalComma)
    this.num[i] = v === null ? NaN : v
    if (v !== null && Math.fround(v) === v && String(v) === cell) {
      if (this.codes) this.codes[i] = CANONICAL
      return
    }
    if (!this.codes) this.codes = new Int16Array(this.num.length).fill(CANONICAL)
    let code = this.index.get(cell)
    if (code === undefined) {
      // An empty cell always gets a code: missing counts need it whatever else the column holds.
      code = this.dict.length < CSV_DICT_CAP || cell === '' ? this.dict.push(cell) - 1 : OVERFLOW
      if (code !== OVERFLOW) this.index.set(cell, code)
    }
    this.codes[i] = code
  }
  canonical(i: number): boolean {
    return !this.codes || this.codes[i] === CANONICAL
  }
  text(i: number): string | null {
    const code = this.codes ? this.codes[i] : CANONICAL
    return code === CANONICAL ? String(this.num[i]) : code === OVERFLOW ? null : this.dict[code]
  }
}

/** A parsed CSV file: header, then data rows of trimmed cells, stored by column. */
export class CsvTable {
  /** @internal built by CsvReader */
  constructor(
    readonly columns: string[],
    readonly n: number,
    private readonly cols: Column[],
    /** File row number (header = 1) of each data row, as a spreadsheet numbers them. */
    readonly rowNumbers: Int32Array,
    readonly delimiter: string,
    /** Worth telling the user but not errors: a guessed delimiter, skipped blank rows, a BOM. */
    readonly warnings: string[],
  ) {}

  /** Semicolon-separated files may write decimals with a comma. */
  get decimalComma(): boolean {
    return this.delimiter === ';'
  }

  /**
   * The trimmed text of a cell; null only for a cell of a column with more than CSV_DICT_CAP
   * distinct non-numeric texts, met after those (no class or one-hot column can have so many).
   */
  text(i: number, j: number): string | null {
    return this.cols[j].text(i)
  }

  /** Whether the cell's text is String(number(i, j)) exactly (so equal numbers are equal texts). */
  canonical(i: number, j: number): boolean {
    return this.cols[j].canonical(i)
  }

  /** The cell as csvNumber reads it, stored as float32 (NaN: not a number). */
  number(i: number, j: number): number {
    return this.cols[j].num[i]
  }

  /** Rows start…end-1 as text (previews and tests); an unknown cell is shown as '…'. */
  rows(start = 0, end = this.n): string[][] {
    const out: string[][] = []
    for (let i = start; i < Math.min(end, this.n); i++) out.push(this.cols.map((c) => c.text(i) ?? '…'))
    return out
  }
}

interface Handle {
  parse(input: string, baseIndex: number, ignoreLastRow: boolean): { data: string[][]; errors: Papa.ParseError[]; meta: Papa.ParseMeta }
}
const ParserHandle = (Papa as unknown as { ParserHandle: new (config: Papa.ParseConfig) => Handle }).ParserHandle

/** Feeds text in pieces (push), then end() gives the table; every refusal is an EngineError 'data'. */
export class CsvReader {
  /** Data rows kept so far (blank rows are skipped, not counted). */
  rowsParsed = 0
  private readonly handle = new ParserHandle({ delimiter: '', delimitersToGuess: DELIMITERS, skipEmptyLines: false })
  private partial = ''
  /** Text held back until there is enough to guess the delimiter from; null once parsing began. */
  private guessing: string | null = ''
  private baseIndex = 0
  /** File rows seen (header and blank rows included). */
  private fileRows = 0
  private columns: string[] | null = null
  private cols: Column[] = []
  private rowNumbers = new Int32Array(0)
  private delimiter = ','
  private blank = 0
  private lastBlank = false
  private started = false
  private bom = false
  private content = false
  private readonly limits: Required<CsvLimits>

  constructor(
    private readonly source = 'CSV',
    limits: CsvLimits = {},
  ) {
    this.limits = { maxRows: Infinity, maxColumns: Infinity, maxCells: Infinity, maxRowChars: MAX_ROW_CHARS, ...limits }
  }

  private fail(msg: string): never {
    throw new EngineError('parseCsv', 'data', `${this.source}: ${msg}`)
  }

  push(text: string): void {
    if (!this.started && text.length > 0) {
      this.started = true
      if (text.charCodeAt(0) === 0xfeff) {
        this.bom = true
        text = text.slice(1)
      }
    }
    if (!this.content && text.trim() !== '') this.content = true
    if (this.guessing !== null) {
      // The delimiter and line ending are guessed from the first piece parsed: make it a few rows.
      this.guessing += text
      if (this.guessing.length < GUESS_CHARS && this.guessing.split('\n', GUESS_ROWS + 1).length <= GUESS_ROWS) return
      text = this.guessing
      this.guessing = null
    }
    for (let a = 0; a < text.length; a += SLICE_CHARS) this.parse(text.slice(a, a + SLICE_CHARS), false)
  }

  end(): CsvTable {
    if (!this.content) this.fail('the file is empty')
    this.parse(this.guessing ?? '', true)
    this.guessing = null
    if (this.columns === null || this.rowsParsed === 0) this.fail('the file has a header row but no data rows')
    const warnings: string[] = []
    if (this.delimiter !== ',') warnings.push(`columns are separated by ${delimiterName(this.delimiter)}`)
    const skipped = this.blank - (this.lastBlank ? 1 : 0)
    if (skipped > 0) warnings.push(`${skipped} blank row${skipped === 1 ? ' was' : 's were'} skipped`)
    if (this.bom) warnings.push('a byte order mark (BOM) at the start was ignored')
    const n = this.rowsParsed
    return new CsvTable(this.columns!, n, this.cols, this.rowNumbers.subarray(0, n), this.delimiter, warnings)
  }

  private parse(text: string, last: boolean): void {
    const input = this.partial + text
    this.partial = ''
    if (input === '') return
    const r = this.handle.parse(input, this.baseIndex, !last)
    const quote = r.errors.find((e) => e.type === 'Quotes')
    if (quote) {
      const what = quote.code === 'MissingQuotes' ? 'a quoted field is never closed' : 'a quote inside a quoted field is not doubled ("")'
      this.fail(`row ${this.fileRows + (quote.row ?? 0) + 1}: ${what}`)
    }
    this.delimiter = r.meta.delimiter
    for (const row of r.data) this.row(row)
    if (!last) {
      this.partial = input.substring(r.meta.cursor - this.baseIndex)
      this.baseIndex = r.meta.cursor
      if (this.partial.length > this.limits.maxRowChars) {
        this.fail(`row ${this.fileRows + 1} is longer than ${this.limits.maxRowChars} characters (is a quote never closed?)`)
      }
    }
  }

  private row(r: string[]): void {
    const fileRow = ++this.fileRows
    if (r.length === 1 && r[0].trim() === '') {
      if (this.columns !== null) this.blank++
      this.lastBlank = true
      return
    }
    this.lastBlank = false
    if (this.columns === null) return this.header(r)
    const width = this.columns.length
    if (r.length !== width)
      this.fail(`row ${fileRow} has ${r.length} field${r.length === 1 ? '' : 's'}, expected ${width} (as in the header)`)
    const i = this.rowsParsed
    if (i >= this.limits.maxRows) this.fail(`more than ${this.limits.maxRows} data rows (the most a dataset may have)`)
    if ((i + 1) * width > this.limits.maxCells) {
      this.fail(
        `more than ${this.limits.maxCells} cells (${width} columns × ${i + 1}+ rows; the most a file may hold); use fewer rows or columns`,
      )
    }
    if (i === this.rowNumbers.length) {
      const numbers = new Int32Array(Math.max(i + 1, Math.min(2 * i, this.capacity(width))))
      numbers.set(this.rowNumbers)
      this.rowNumbers = numbers
      for (const c of this.cols) c.grow(numbers.length)
    }
    this.rowNumbers[i] = fileRow
    const dc = this.delimiter === ';'
    for (let j = 0; j < width; j++) this.cols[j].set(i, r[j].trim(), dc)
    this.rowsParsed++
  }

  /** The most rows the limits allow a table this wide (arrays never grow past it). */
  private capacity(width: number): number {
    return Math.min(this.limits.maxRows, Math.floor(this.limits.maxCells / width))
  }

  private header(r: string[]): void {
    const columns = r.map((c) => c.trim())
    if (columns.length > this.limits.maxColumns)
      this.fail(`the header has ${columns.length} columns, more than the ${this.limits.maxColumns} allowed`)
    columns.forEach((name, j) => {
      if (name === '') this.fail(`column ${j + 1} has an empty name in the header row`)
      const first = columns.indexOf(name)
      if (first !== j) this.fail(`column name "${name}" appears twice in the header row (columns ${first + 1} and ${j + 1})`)
    })
    this.columns = columns
    this.rowNumbers = new Int32Array(Math.max(1, Math.min(1024, this.capacity(columns.length))))
    this.cols = columns.map(() => new Column(this.rowNumbers.length))
  }
}

/**
 * Splits CSV text into a header and rows. Accepts a BOM, CRLF or LF, quoted fields (with quotes,
 * delimiters and line breaks inside), and comma, semicolon or tab delimiters (guessed). Blank rows
 * are skipped. Refuses: an empty file, a header without data rows, empty or duplicate column names,
 * rows with a different number of fields than the header, broken quoting, and more rows, columns
 * or cells than the limits (checked as rows are read, so a huge file stops at the limit).
 */
export function parseCsv(text: string, source = 'CSV', limits: CsvLimits = {}): CsvTable {
  const reader = new CsvReader(source, limits)
  reader.push(text)
  return reader.end()
}

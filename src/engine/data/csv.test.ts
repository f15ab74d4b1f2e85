import { describe, expect, it } from 'vitest'
import { EngineError } from '../errors.js'
import { CsvReader, csvDataset, describeColumns, parseCsv } from './csv.js'

const IRIS = 'sepal_len,petal_len,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n4.9,1.5,setosa\n'

function error(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError)
    expect((e as EngineError).code).toBe('data')
    return (e as Error).message
  }
  throw new Error('expected an error')
}

describe('parseCsv', () => {
  it('reads a header and rows, numbering rows as a spreadsheet does', () => {
    const t = parseCsv(IRIS)
    expect(t.columns).toEqual(['sepal_len', 'petal_len', 'species'])
    expect(t.n).toBe(4)
    expect(t.rows()[2]).toEqual(['6.3', '6.0', 'virginica'])
    expect(Array.from(t.rowNumbers)).toEqual([2, 3, 4, 5])
    expect(t.delimiter).toBe(',')
    expect(t.warnings).toEqual([])
  })

  it('handles a BOM, CRLF, quoted fields with delimiters, quotes and line breaks inside', () => {
    const t = parseCsv('\uFEFFname,"note, with comma",y\r\n"Smith, J.","said ""hi""\r\nthen left",1\r\nLee,plain,0\r\n')
    expect(t.columns).toEqual(['name', 'note, with comma', 'y'])
    expect(t.rows()).toEqual([
      ['Smith, J.', 'said "hi"\r\nthen left', '1'],
      ['Lee', 'plain', '0'],
    ])
    expect(t.warnings).toEqual(['a byte order mark (BOM) at the start was ignored'])
  })

  it('guesses semicolon and tab delimiters and says so; skips blank rows with a warning', () => {
    const semi = parseCsv('a;b;c\n1,5;2;x\n\n3;4;y\n')
    expect(semi.delimiter).toBe(';')
    expect(semi.rows()).toEqual([
      ['1,5', '2', 'x'],
      ['3', '4', 'y'],
    ])
    expect(Array.from(semi.rowNumbers)).toEqual([2, 4])
    expect(semi.warnings).toEqual(['columns are separated by ";"', '1 blank row was skipped'])
    // Semicolon files may write decimals with a comma (European spreadsheets): they read as numbers.
    const ds = csvDataset(semi, { name: 'semi', target: 'c' })
    expect(ds.featureNames).toEqual(['a', 'b'])
    expect(Array.from(ds.x)).toEqual([1.5, 2, 3, 4])
    expect(describeColumns(parseCsv('a,b\n"1,5",2\n3,4\n'))[0].type).toBe('categorical')
    const tab = parseCsv('a\tb\n1\t2\n3\t4')
    expect(tab.delimiter).toBe('\t')
    expect(tab.rows()).toEqual([
      ['1', '2'],
      ['3', '4'],
    ])
    expect(tab.warnings).toEqual(['columns are separated by tab'])
  })

  it('refuses malformed files with the row or column named', () => {
    expect(error(() => parseCsv('', 'f.csv'))).toBe('parseCsv: f.csv: the file is empty')
    expect(error(() => parseCsv(' \n\n', 'f.csv'))).toBe('parseCsv: f.csv: the file is empty')
    expect(error(() => parseCsv('a,b,c\n', 'f.csv'))).toBe('parseCsv: f.csv: the file has a header row but no data rows')
    expect(error(() => parseCsv('a,b,c\n1,2,3\n4,5\n', 'f.csv'))).toBe('parseCsv: f.csv: row 3 has 2 fields, expected 3 (as in the header)')
    expect(error(() => parseCsv('a,b\n1,2,3\n', 'f.csv'))).toBe('parseCsv: f.csv: row 2 has 3 fields, expected 2 (as in the header)')
    expect(error(() => parseCsv('a,,c\n1,2,3\n', 'f.csv'))).toBe('parseCsv: f.csv: column 2 has an empty name in the header row')
    expect(error(() => parseCsv('a,b,a\n1,2,3\n', 'f.csv'))).toBe(
      'parseCsv: f.csv: column name "a" appears twice in the header row (columns 1 and 3)',
    )
    expect(error(() => parseCsv('a,b\n1,"2\n3,4\n', 'f.csv'))).toBe('parseCsv: f.csv: row 2: a quoted field is never closed')
    expect(error(() => parseCsv('a,b\n1,"2"x"\n3,4\n', 'f.csv'))).toBe(
      'parseCsv: f.csv: row 2: a quote inside a quoted field is not doubled ("")',
    )
  })

  it('refuses more rows or columns than the limits', () => {
    expect(error(() => parseCsv('a,b\n1,2\n3,4\n5,6\n', 'f.csv', { maxRows: 2 }))).toBe(
      'parseCsv: f.csv: more than 2 data rows (the most a dataset may have)',
    )
    expect(error(() => parseCsv('a,b,c\n1,2,3\n', 'f.csv', { maxColumns: 2 }))).toBe(
      'parseCsv: f.csv: the header has 3 columns, more than the 2 allowed',
    )
    expect(parseCsv('a,b\n1,2\n3,4\n', 'f.csv', { maxRows: 2, maxColumns: 2 }).n).toBe(2)
  })
})

describe('CsvReader (text in pieces)', () => {
  it('reads rows split anywhere across pieces: inside quotes, between CR and LF, mid-number', () => {
    const rows = Array.from({ length: 12 }, (_, i) => `"Smith, J.";"said ""hi""\r\nthen left";1,${i}5\r\n`).join('')
    const text = `name;"note; with semicolon";y\r\n${rows}\r\nLee;plain;0\r\n`
    const whole = parseCsv(text, 'f.csv')
    expect(whole.n).toBe(13)
    expect(whole.rows()[12]).toEqual(['Lee', 'plain', '0'])
    expect(whole.number(3, 2)).toBe(Math.fround(1.35))
    for (let cut = 1; cut < text.length; cut++) {
      const r = new CsvReader('f.csv')
      // Three pieces: the first holds the rows the delimiter is guessed from, the cut falls anywhere after.
      const first = text.indexOf('\n', text.indexOf('1,95')) + 1
      const at = first + (cut % (text.length - first))
      r.push(text.slice(0, first))
      r.push(text.slice(first, at))
      r.push(text.slice(at))
      const t = r.end()
      expect(t.rows()).toEqual(whole.rows())
      expect(Array.from(t.rowNumbers)).toEqual([...Array.from({ length: 12 }, (_, i) => i + 2), 15])
      expect(t.warnings).toEqual(['columns are separated by ";"', '1 blank row was skipped'])
    }
  })

  it('stops at the first row past the row limit, however much text follows', () => {
    const r = new CsvReader('bomb.csv', { maxRows: 1000 })
    let message = ''
    try {
      r.push('"1"\n')
      // 2 MB of "1" rows with blank rows between, pushed in 64 KiB pieces as an inflating file arrives.
      const piece = '"1"\n\n'.repeat(13_107)
      for (let k = 0; k < 32; k++) r.push(piece)
    } catch (e) {
      message = (e as Error).message
    }
    expect(message).toBe('parseCsv: bomb.csv: more than 1000 data rows (the most a dataset may have)')
    expect(r.rowsParsed).toBe(1000)
  })

  it('refuses more cells than the limit and a row that never ends', () => {
    const wide = `${Array.from({ length: 10 }, (_, j) => `c${j}`).join(',')}\n${'1,2,3,4,5,6,7,8,9,0\n'.repeat(5)}`
    expect(error(() => parseCsv(wide, 'w.csv', { maxCells: 40 }))).toBe(
      'parseCsv: w.csv: more than 40 cells (10 columns × 5+ rows; the most a file may hold); use fewer rows or columns',
    )
    const r = new CsvReader('q.csv', { maxRowChars: 1000 })
    expect(
      error(() => {
        r.push('a,b\n1,"')
        for (let k = 0; k < 10; k++) r.push('x'.repeat(10_000))
      }),
    ).toBe('parseCsv: q.csv: row 2 is longer than 1000 characters (is a quote never closed?)')
  })
})

describe('describeColumns', () => {
  it('infers numeric and categorical columns with missing, distinct counts and examples', () => {
    const cols = describeColumns(parseCsv('x,y,label,z\n1,2.5e3,a,\n-2,,b,\n1,.5,a,\n'))
    expect(cols).toEqual([
      { name: 'x', type: 'numeric', missing: 0, distinct: 2, examples: ['1', '-2'] },
      { name: 'y', type: 'numeric', missing: 1, distinct: 2, examples: ['2.5e3', '.5'] },
      { name: 'label', type: 'categorical', missing: 0, distinct: 2, examples: ['a', 'b'] },
      { name: 'z', type: 'categorical', missing: 3, distinct: 0, examples: [] },
    ])
    expect(describeColumns(parseCsv('v\nNaN\n1\n'))[0].type).toBe('categorical')
    expect(describeColumns(parseCsv('v\nInfinity\n1\n'))[0].type).toBe('categorical')
  })
})

describe('csvDataset', () => {
  it('builds a classification dataset: numeric features by default, classes sorted from a text target', () => {
    const ds = csvDataset(parseCsv(IRIS), { name: 'iris', target: 'species' })
    expect(ds.task).toBe('multiclass')
    expect(ds.featureNames).toEqual(['sepal_len', 'petal_len'])
    expect(ds.classNames).toEqual(['setosa', 'versicolor', 'virginica'])
    expect(Array.from(ds.y)).toEqual([0, 1, 2, 0])
    expect(Array.from(ds.x)).toEqual([5.1, 1.4, 7.0, 4.7, 6.3, 6.0, 4.9, 1.5].map(Math.fround))
  })

  it("task 'auto': two text classes are binary; few integers are classes (sorted numerically); many values are regression", () => {
    expect(csvDataset(parseCsv('a,t\n1,yes\n2,no\n3,yes\n'), { name: 'd', target: 't' })).toMatchObject({
      task: 'binary',
      nClasses: 2,
      classNames: ['no', 'yes'],
    })
    const ints = csvDataset(parseCsv('a,t\n1,10\n2,9\n3,2\n4,10\n'), { name: 'd', target: 't' })
    expect(ints).toMatchObject({ task: 'multiclass', classNames: ['2', '9', '10'] })
    expect(Array.from(ints.y)).toEqual([2, 1, 0, 2])
    const rows = Array.from({ length: 30 }, (_, i) => `${i},${i * 1.5}`).join('\n')
    const reg = csvDataset(parseCsv(`a,t\n${rows}\n`), { name: 'd', target: 't' })
    expect(reg.task).toBe('regression')
    expect(reg.nClasses).toBe(0)
    expect(reg.y[3]).toBe(4.5)
    const manyInts = Array.from({ length: 25 }, (_, i) => `${i},${i}`).join('\n')
    expect(csvDataset(parseCsv(`a,t\n${manyInts}\n`), { name: 'd', target: 't' }).task).toBe('regression')
    expect(csvDataset(parseCsv(`a,t\n${manyInts}\n`), { name: 'd', target: 't', task: 'multiclass' }).nClasses).toBe(25)
  })

  it('takes the chosen features in order and refuses what does not fit, naming the row and column', () => {
    const t = parseCsv('a,b,color,y\n1,2,red,x\n3,abc,blue,y\n5,7,red,x\n')
    const msg = (opts: Partial<Parameters<typeof csvDataset>[1]>) => error(() => csvDataset(t, { name: '"f.csv"', target: 'y', ...opts }))
    expect(csvDataset(t, { name: 'f', target: 'y', features: ['a'] }).featureNames).toEqual(['a'])
    expect(msg({ features: ['a', 'b'] })).toBe('csvDataset: "f.csv": row 3, column "b": "abc" is not a number')
    expect(msg({ target: 'nope' })).toBe('csvDataset: "f.csv": target "nope" is not a column (columns: "a", "b", "color", "y")')
    expect(msg({ features: ['a', 'zz'] })).toMatch(/feature "zz" is not a column/)
    expect(msg({ features: ['a', 'a'] })).toBe('csvDataset: "f.csv": feature "a" is listed twice')
    expect(msg({ features: ['a', 'y'] })).toBe('csvDataset: "f.csv": "y" is the target; it cannot also be a feature')
    expect(msg({ task: 'regression', features: ['a'] })).toBe(
      'csvDataset: "f.csv": row 2, column "y" (the regression target): "x" is not a number',
    )
    const gaps = parseCsv('a,b,y\n1,2,x\n3,,y\n')
    expect(error(() => csvDataset(gaps, { name: 'g', target: 'y' }))).toBe(
      'csvDataset: g: row 3, column "b" is empty (missing values are not supported: fill or remove the row)',
    )
    expect(error(() => csvDataset(parseCsv('a,y\n1,x\n2,\n'), { name: 'g', target: 'y' }))).toBe(
      'csvDataset: g: row 3, column "y" (the target) is empty',
    )
    expect(error(() => csvDataset(parseCsv('a,y\n1,x\n2,x\n'), { name: 'g', target: 'y' }))).toBe(
      'csvDataset: g: the target "y" has only one class ("x"); classification needs at least 2',
    )
    expect(error(() => csvDataset(parseCsv('a,y\n1,x\n2,y\n3,z\n'), { name: 'g', target: 'y', task: 'binary' }))).toBe(
      'csvDataset: g: task binary needs 2 classes, but the target "y" has 3',
    )
    expect(error(() => csvDataset(parseCsv('t,y\nq,x\nr,y\n'), { name: 'g', target: 'y' }))).toBe(
      'csvDataset: g: no numeric column besides the target "y" to use as a feature',
    )
  })

  it('one-hot encodes a categorical feature chosen explicitly: one 0/1 column per value, sorted', () => {
    const t = parseCsv('a,color,y\n1,red,x\n3,blue,y\n5,red,x\n7,green,y\n')
    const ds = csvDataset(t, { name: 'f', target: 'y', features: ['color', 'a'] })
    expect(ds.featureNames).toEqual(['color=blue', 'color=green', 'color=red', 'a'])
    expect(Array.from(ds.x)).toEqual([0, 0, 1, 1, 1, 0, 0, 3, 0, 0, 1, 5, 0, 1, 0, 7])
    // Not chosen, it is left out: the default is the numeric columns only.
    expect(csvDataset(t, { name: 'f', target: 'y' }).featureNames).toEqual(['a'])
    const gap = parseCsv('a,color,y\n1,red,x\n3,,y\n')
    expect(error(() => csvDataset(gap, { name: 'f', target: 'y', features: ['color'] }))).toBe(
      'csvDataset: f: row 3, column "color" is empty (missing values are not supported: fill or remove the row)',
    )
    const many = parseCsv(`id,y\n${Array.from({ length: 65 }, (_, i) => `v${i},${i % 2}`).join('\n')}\n`)
    expect(error(() => csvDataset(many, { name: 'f', target: 'y', features: ['id'] }))).toBe(
      'csvDataset: f: column "id" is categorical with 65 distinct values, too many to one-hot encode (at most 64); leave it out',
    )
  })

  it('says a number too large to store overflows, numbering rows as a spreadsheet does (header = row 1)', () => {
    const t = parseCsv('a,b,y\n1,2,0\n1e309,3,1\n4,1e39,0\n5,6,-1e309\n')
    expect(error(() => csvDataset(t, { name: '"nan.csv"', target: 'y', features: ['a'] }))).toBe(
      'csvDataset: "nan.csv": row 3, column "a": 1e309 is too large for a 64-bit float (it overflows to Infinity)',
    )
    expect(error(() => csvDataset(t, { name: '"nan.csv"', target: 'y', features: ['b'] }))).toBe(
      'csvDataset: "nan.csv": row 4, column "b": 1e39 is too large for a 32-bit float, which the dataset stores (the largest is about 3.4e+38)',
    )
    const reg = parseCsv(`a,y\n${Array.from({ length: 30 }, (_, i) => `${i},${i === 7 ? '-1e309' : i * 1.5}`).join('\n')}\n`)
    expect(error(() => csvDataset(reg, { name: '"r.csv"', target: 'y' }))).toBe(
      'csvDataset: "r.csv": row 9, column "y" (the regression target): -1e309 is too large for a 64-bit float (it overflows to Infinity)',
    )
  })

  it('uses a given class order (bundled datasets keep their published order)', () => {
    const ds = csvDataset(parseCsv('a,d\n1,benign\n2,malignant\n'), { name: 'd', target: 'd', classOrder: ['malignant', 'benign'] })
    expect(ds.classNames).toEqual(['malignant', 'benign'])
    expect(Array.from(ds.y)).toEqual([1, 0])
  })
})

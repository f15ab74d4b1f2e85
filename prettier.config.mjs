// Prettier decides formatting (STYLE.md), in the style the code was first written in: no
// semicolons, single quotes, trailing commas. 140 columns: an op's signature or a test's name fits
// on one line, and two files still read side by side.
export default {
  semi: false,
  singleQuote: true,
  printWidth: 140,
  trailingComma: 'all',
  arrowParens: 'always',
  endOfLine: 'lf',
}

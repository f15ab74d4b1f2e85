// Vite's `?raw` imports (a file's text as a string), used to bundle the dataset CSVs into the
// worker; the node tsconfig does not load vite/client, which declares them for the renderer.
declare module '*?raw' {
  const text: string
  export default text
}

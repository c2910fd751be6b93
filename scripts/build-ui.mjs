// Builds the web UI (src/ui) into dist/ui: one minified ES module, one stylesheet and the page
// that loads them. Every byte the browser loads ships in the package; nothing comes from a CDN.
import { build } from 'esbuild'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const outdir = path.join(root, 'dist/ui')
mkdirSync(outdir, { recursive: true })
await build({
  entryPoints: { app: path.join(root, 'src/ui/main.tsx') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir,
  legalComments: 'none',
  logLevel: 'warning',
})
writeFileSync(
  path.join(outdir, 'index.html'),
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>assay</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/app.css">
<script type="module" src="/ui/app.js"></script>
</head>
<body><div id="app"></div></body>
</html>
`,
)

import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { folderOf, importCycles, importGraph, upwardImports } from './import-graph.js'

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src')

/**
 * The one-way flow of src/ (docs/development.md "Layers"), lowest row first: a folder imports only
 * itself and folders on lower rows, so folders beside each other never import each other and no
 * cycle between folders can form. A new folder fails here until it is given a row.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['errors', 'version', 'number-format', 'command-name'], // the catalogue, the version, how numbers and commands are written: they import nothing of src/
  ['record', 'stats'], // the run record; pure statistics (stats imports only the catalogue)
  ['audit', 'otlp', 'import'], // the hash chain: below the stores, which check every record's hash on insert; OTLP decoding (below the server); parsers of other tools' result files
  ['store'],
  ['compare', 'registry'],
  ['gates', 'report'], // gates read the registry (gate sides) and compare; report renders comparisons
  ['promotion', 'monitor'], // a gate check, then the registry's alias move; production monitors (they read files as gates do)
  ['sdk'],
  ['server', 'demo'],
  ['cli', 'index', 'ui'], // the commands (they start the server and the demo); the public SDK surface; the web UI's browser bundle (types only from below)
]

describe('layering of src/', () => {
  const graph = importGraph(src)

  it('gives every folder of src/ a row', () => {
    const placed = new Set(LAYERS.flat())
    const folders = readdirSync(src).map((name) => folderOf(name))
    assert.deepEqual(folders.filter((folder) => !placed.has(folder)), [])
  })

  it('has no import from a folder beside or above the importer', () => {
    assert.deepEqual(upwardImports(graph, LAYERS), [])
  })

  it('has no import cycle between files', () => {
    assert.deepEqual(importCycles(graph), [])
  })

  it('keeps the browser bundle (src/ui) free of server code: it imports only types from the rest of src/, and the number format', () => {
    // number-format.ts imports nothing and does no I/O: the browser writes numbers by the same rule.
    const pure = new Set(['../number-format.js'])
    const valueImports: string[] = []
    for (const file of readdirSync(path.join(src, 'ui'))) {
      if (!/\.tsx?$/.test(file)) continue
      const text = readFileSync(path.join(src, 'ui', file), 'utf8')
      for (const match of text.matchAll(/^import\s+(type\s+)?[^'"]*?from\s+'(\.\.\/[^']+)'/gm)) if (match[1] === undefined && !pure.has(match[2])) valueImports.push(`ui/${file} imports ${match[2]}`)
    }
    assert.deepEqual(valueImports, [])
    assert.ok(graph.has('ui/main.tsx'), 'the layering graph reads the .tsx files of src/ui')
  })
})

describe('the layering check itself', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'assay-layers-'))
  after(() => rmSync(root, { recursive: true, force: true }))
  const write = (file: string, text: string): void => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
    writeFileSync(path.join(root, file), text)
  }
  write('errors.ts', 'export const E = 1\n')
  write('store/store.ts', "import { E } from '../errors.js'\nexport type { Gate } from '../gates/gate.js'\nexport const S = E\n")
  write('gates/gate.ts', "import type { S } from '../store/store.js'\nexport type Gate = typeof S\nexport const load = () => import('./loader.js')\n")
  write('gates/loader.ts', "import { load } from './gate.js'\nexport const again = load\n")
  const graph = importGraph(root)
  const layers = [['errors'], ['store'], ['gates']]

  it('finds an upward import, also a type-only re-export', () => {
    assert.deepEqual(upwardImports(graph, layers), ['store/store.ts imports gates/gate.ts: gates is above store'])
  })

  it('finds a folder beside the importer and a folder without a row', () => {
    assert.deepEqual(upwardImports(graph, [['errors'], ['store', 'gates']]).length, 2)
    assert.match(upwardImports(graph, [['errors'], ['gates']]).join('\n'), /folder store has no place in the layers/)
  })

  it('finds cycles, through a dynamic import() too', () => {
    assert.deepEqual(importCycles(graph).sort(), [['gates/gate.ts', 'gates/loader.ts', 'store/store.ts']])
  })

  it('finds no cycle in a tree without one', () => {
    assert.deepEqual(importCycles(new Map([['a.ts', ['b.ts']], ['b.ts', []]])), [])
    assert.deepEqual(importCycles(new Map([['a.ts', ['a.ts']]])), [['a.ts']])
  })
})

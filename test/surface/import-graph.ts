import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'

/**
 * The import graph of a source tree, read with the TypeScript compiler's own pre-processor and
 * module resolution (NodeNext: `./x.js` resolves to `./x.ts`), so type-only imports, re-exports
 * and dynamic `import()` all count.
 */

/** Each file (relative to `root`, with /) and the files of the tree it imports. */
export type ImportGraph = Map<string, string[]>

const OPTIONS: ts.CompilerOptions = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext }

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(full)
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : []
  })
}

export function importGraph(root: string): ImportGraph {
  const host = ts.createCompilerHost(OPTIONS)
  const relative = (file: string): string => path.relative(root, file).split(path.sep).join('/')
  const graph: ImportGraph = new Map()
  for (const file of sourceFiles(root)) {
    const imported: string[] = []
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      // Stylesheets are the bundler's business (src/ui); they import no code.
      if (!fileName.startsWith('.') || fileName.endsWith('.css')) continue
      const resolved = ts.resolveModuleName(fileName, file, OPTIONS, host).resolvedModule
      if (resolved === undefined) throw new Error(`${relative(file)}: cannot resolve ${fileName}`)
      imported.push(relative(resolved.resolvedFileName))
    }
    graph.set(relative(file), imported)
  }
  return graph
}

/** The folder a file belongs to: its first directory, or its name for a top-level file (errors.ts → errors). */
export function folderOf(file: string): string {
  const [first, ...rest] = file.split('/')
  return rest.length === 0 ? first.replace(/\.ts$/, '') : first
}

/** Imports that go to a folder on the same or a higher row of `layers` (a folder may import itself). */
export function upwardImports(graph: ImportGraph, layers: readonly (readonly string[])[]): string[] {
  const row = new Map(layers.flatMap((folders, index) => folders.map((folder) => [folder, index] as const)))
  const found: string[] = []
  for (const [file, imported] of graph) {
    const from = folderOf(file)
    for (const target of imported) {
      const to = folderOf(target)
      if (from === to) continue
      const fromRow = row.get(from)
      const toRow = row.get(to)
      if (fromRow === undefined) found.push(`${file}: folder ${from} has no place in the layers`)
      else if (toRow === undefined) found.push(`${file} imports ${target}: folder ${to} has no place in the layers`)
      else if (toRow >= fromRow) found.push(`${file} imports ${target}: ${to} is ${toRow === fromRow ? 'beside' : 'above'} ${from}`)
    }
  }
  return found
}

/** Every import cycle between files (strongly connected components of more than one file, or a file importing itself), each as a sorted list. */
export function importCycles(graph: ImportGraph): string[][] {
  // Tarjan's algorithm, iterative so a long chain of imports cannot overflow the stack.
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const onStack = new Set<string>()
  const stack: string[] = []
  const cycles: string[][] = []
  let counter = 0
  for (const start of graph.keys()) {
    if (index.has(start)) continue
    const work: { file: string; next: number }[] = [{ file: start, next: 0 }]
    index.set(start, counter)
    low.set(start, counter++)
    stack.push(start)
    onStack.add(start)
    while (work.length > 0) {
      const frame = work[work.length - 1]
      const targets = graph.get(frame.file) ?? []
      if (frame.next < targets.length) {
        const target = targets[frame.next++]
        if (!index.has(target)) {
          index.set(target, counter)
          low.set(target, counter++)
          stack.push(target)
          onStack.add(target)
          work.push({ file: target, next: 0 })
        } else if (onStack.has(target)) {
          low.set(frame.file, Math.min(low.get(frame.file) as number, index.get(target) as number))
        }
        continue
      }
      work.pop()
      const parent = work[work.length - 1]
      if (parent !== undefined) low.set(parent.file, Math.min(low.get(parent.file) as number, low.get(frame.file) as number))
      if (low.get(frame.file) !== index.get(frame.file)) continue
      const component: string[] = []
      let member: string
      do {
        member = stack.pop() as string
        onStack.delete(member)
        component.push(member)
      } while (member !== frame.file)
      if (component.length > 1 || targets.includes(frame.file)) cycles.push(component.sort())
    }
  }
  return cycles
}

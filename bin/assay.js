#!/usr/bin/env node
// Thin launcher so `npx assay` and the package bin both run the compiled CLI. It imports only
// main.js, which loads the code of the one command that runs (docs/cli.md, start-up).
import { main } from '../dist/cli/main.js'

// `assay runs metrics RUN | head`: a reader that stops early is not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw error
})

main(process.argv).then(
  (code) => { process.exitCode = code },
  (error) => {
    console.error(error)
    process.exitCode = 2
  },
)

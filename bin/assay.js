#!/usr/bin/env node
// Thin launcher so `npx assay` and the package bin both run the compiled CLI.
import { main } from '../dist/cli/main.js'

main(process.argv).then(
  (code) => { process.exitCode = code },
  (error) => {
    console.error(error)
    process.exitCode = 2
  },
)

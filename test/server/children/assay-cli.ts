/** `assay` from the sources, for tests and benchmarks that need a real server process: node --import tsx assay-cli.ts server … */
import { main } from '../../../src/cli/main.js'

process.exitCode = await main(['node', 'assay', ...process.argv.slice(2)])

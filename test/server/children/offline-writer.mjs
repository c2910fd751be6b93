/**
 * A training script whose server is never reachable: starts a run, logs POINTS points, ends the
 * run and exits without closing Assay (as many scripts do). Prints "spooled <n>" on stdout: the
 * writes left in its spool file, counted from the file itself. Runs the built package (dist/).
 */
import { readFileSync } from 'node:fs'
import { Assay } from 'assay'

const assay = await Assay.open({ store: process.env.ASSAY_TRACKING_URI })
const run = await assay.startRun({ experiment: 'offline', params: { lr: 0.1 } })
for (let step = 0; step < Number(process.env.POINTS); step++) await run.log({ loss: 1 / (step + 1) }, { step })
await run.end()
const store = assay.store
process.stdout.write(`spooled ${readFileSync(store.spool.file, 'utf8').split('\n').filter(Boolean).length}\n`)

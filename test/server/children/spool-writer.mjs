/**
 * A training script against a server that goes away: logs phase 1, waits for "go" on stdin
 * (the test stops the server), logs phase 2 (spooled), ends the run and exits with the spool
 * left for `assay sync`. Lines on stdout: "run <id>", "phase1", "done <points>". Runs the built
 * package (dist/), as a user's script would.
 */
import { createInterface } from 'node:readline'
import { Assay } from 'assay'

const assay = await Assay.open({ store: process.env.ASSAY_TRACKING_URI })
const run = await assay.startRun({ experiment: 'spool', params: { lr: 0.1 }, datasets: [{ name: 'val', path: process.env.DATASET, role: 'validation' }] })
process.stdout.write(`run ${run.id}\n`)
const PER_PHASE = 1000
for (let step = 0; step < PER_PHASE; step++) await run.log({ loss: step === 7 ? NaN : 1 / (step + 1) }, { step })
await run.flush()
process.stdout.write('phase1\n')
const lines = createInterface({ input: process.stdin })
await new Promise((resolve) => lines.once('line', () => resolve()))
lines.close()
for (let step = PER_PHASE; step < 2 * PER_PHASE; step++) await run.log({ loss: 1 / (step + 1) }, { step })
await run.flush()
await run.logEval({ dataset: 'val', records: [{ id: 'e1', scores: { acc: 1 } }, { id: 'e2', scores: { acc: NaN } }] })
await run.logArtifact('model.bin', Buffer.from('offline weights'))
await run.end()
await assay.close()
process.stdout.write(`done ${2 * PER_PHASE}\n`)

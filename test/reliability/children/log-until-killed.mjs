/**
 * Logs metric points in a tight loop and eval records every few flushes, forever. After each
 * resolved flush it prints what is durable: "acked <points>" and "evals <records>". The parent
 * SIGKILLs it at some point and checks that everything acknowledged survived.
 */
import { Assay } from 'assay'
import { evalRecord, metricValue, requireEnv, say } from './protocol.mjs'

const store = requireEnv('STORE')
const flushEvery = Number(requireEnv('FLUSH_EVERY'))
const evalEvery = Number(requireEnv('EVAL_EVERY_FLUSHES'))
const evalBatch = Number(requireEnv('EVAL_BATCH'))

const assay = await Assay.open({ store })
const run = await assay.startRun({
  experiment: 'sigkill',
  datasets: [{ name: 'val', path: requireEnv('DATASET'), role: 'validation' }],
  codeDir: store,
})
say(`run ${run.id}`)

let flushes = 0
let evals = 0
for (let i = 0; ; i++) {
  await run.log({ loss: metricValue(i) }, { step: i })
  if ((i + 1) % flushEvery !== 0) continue
  await run.flush()
  say(`acked ${i + 1}`)
  if (++flushes % evalEvery === 0) {
    const records = Array.from({ length: evalBatch }, (_, k) => evalRecord(evals + k))
    await run.logEval({ dataset: 'val', records })
    evals += evalBatch
    say(`evals ${evals}`)
  }
}

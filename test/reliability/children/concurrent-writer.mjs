/**
 * One of several processes logging to the same embedded store at once. It starts its run, says
 * "ready", waits for the parent's go file so all writers contend from the same moment, then logs
 * STEPS steps of KEYS metrics with a flush every FLUSH_EVERY steps and EVAL_BATCHES eval batches
 * in between, ends the run and says "done". With OPEN_AFTER_GO=1 it waits before opening the
 * store instead, so that all writers create and migrate a fresh store at the same moment.
 */
import { existsSync } from 'node:fs'
import { Assay } from 'assay'
import { evalRecord, metricValue, requireEnv, say } from './protocol.mjs'

const store = requireEnv('STORE')
const salt = Number(requireEnv('SALT'))
const steps = Number(requireEnv('STEPS'))
const keys = Number(requireEnv('KEYS'))
const flushEvery = Number(requireEnv('FLUSH_EVERY'))
const evalBatches = Number(requireEnv('EVAL_BATCHES'))
const evalBatch = Number(requireEnv('EVAL_BATCH'))
const goFile = requireEnv('GO_FILE')
const openAfterGo = process.env.OPEN_AFTER_GO === '1'
const waitForGo = async () => {
  while (!existsSync(goFile)) await new Promise((resolve) => setTimeout(resolve, 2))
}

if (openAfterGo) {
  say('waiting')
  await waitForGo()
}
const assay = await Assay.open({ store })
const run = await assay.startRun({
  experiment: 'concurrent',
  name: `writer-${salt}`,
  params: { salt },
  datasets: [{ name: 'val', path: requireEnv('DATASET'), role: 'validation' }],
  codeDir: store,
})
if (!openAfterGo) {
  say(`ready ${run.id}`)
  await waitForGo()
}

const evalEvery = Math.floor(steps / evalBatches)
let evalsLogged = 0
for (let step = 0; step < steps; step++) {
  const metrics = {}
  for (let k = 0; k < keys; k++) metrics[`m${k}`] = metricValue(step, salt * 10 + k)
  await run.log(metrics, { step })
  if ((step + 1) % flushEvery === 0) await run.flush()
  if ((step + 1) % evalEvery === 0 && evalsLogged < evalBatches * evalBatch) {
    await run.logEval({ dataset: 'val', records: Array.from({ length: evalBatch }, (_, i) => evalRecord(evalsLogged + i, salt)) })
    evalsLogged += evalBatch
  }
}
await run.end()
await assay.close()
say(`done ${run.id} ${evalsLogged}`)

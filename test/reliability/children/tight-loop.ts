/**
 * Logs in a loop that awaits only run.log / run.flush (no timer, no I/O wait) for DURATION_MS,
 * printing "acked <n>" after each flush, then ends the run normally and prints "finished".
 */
import { Assay } from '../../../src/index.js'
import { metricValue, requireEnv, say } from '../shared.js'

const store = requireEnv('STORE')
const duration = Number(requireEnv('DURATION_MS'))

const assay = await Assay.open({ store })
const run = await assay.startRun({ experiment: 'tight', codeDir: store })
say(`run ${run.id}`)
const started = Date.now()
for (let i = 0; Date.now() - started < duration; i++) {
  await run.log({ loss: metricValue(i) }, { step: i })
  if ((i + 1) % 20_000 === 0) {
    await run.flush()
    say(`acked ${i + 1}`)
  }
}
await run.end()
say('finished')

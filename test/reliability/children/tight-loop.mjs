/**
 * Logs in a loop that awaits only run.log / run.flush (no timer, no I/O wait), printing
 * "acked <n>" after each flush, until a signal ends the process (it never ends on its own).
 */
import { Assay } from 'assay'
import { metricValue, requireEnv, say } from './protocol.mjs'

const store = requireEnv('STORE')

const assay = await Assay.open({ store })
const run = await assay.startRun({ experiment: 'tight', codeDir: store })
say(`run ${run.id}`)
for (let i = 0; ; i++) {
  await run.log({ loss: metricValue(i) }, { step: i })
  if ((i + 1) % 20_000 === 0) {
    await run.flush()
    say(`acked ${i + 1}`)
  }
}

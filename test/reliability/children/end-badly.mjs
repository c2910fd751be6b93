/**
 * A process whose run is still active when it ends badly. MODE:
 *  - signal: logs in a loop (yielding to the event loop, as a training loop awaiting I/O would),
 *    printing "acked <n>" after each flush, until the parent sends SIGTERM or SIGINT;
 *  - throw: logs LOGGED points without flushing, then throws an uncaught exception;
 *  - reject: the same with an unhandled promise rejection.
 */
/* global setImmediate */
import { Assay } from 'assay'
import { metricValue, requireEnv, say } from './protocol.mjs'

const store = requireEnv('STORE')
const mode = requireEnv('MODE')

const assay = await Assay.open({ store })
const run = await assay.startRun({ experiment: 'ending', name: `mode-${mode}`, codeDir: store })
say(`run ${run.id}`)

if (mode === 'signal') {
  for (let i = 0; ; i++) {
    await run.log({ loss: metricValue(i) }, { step: i })
    if ((i + 1) % 100 === 0) {
      await run.flush()
      say(`acked ${i + 1}`)
      await new Promise((resolve) => setImmediate(resolve))
    }
  }
} else {
  const logged = Number(requireEnv('LOGGED'))
  for (let i = 0; i < logged; i++) await run.log({ loss: metricValue(i) }, { step: i })
  say(`logged ${logged}`)
  if (mode === 'throw') {
    setTimeout(() => {
      throw new Error('reliability-sentinel: uncaught')
    }, 5)
  } else {
    setTimeout(() => {
      void Promise.reject(new Error('reliability-sentinel: unhandled rejection'))
    }, 5)
  }
  // Keep the process alive until the error takes it down (however long a loaded machine takes).
  setInterval(() => undefined, 60_000)
}

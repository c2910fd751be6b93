/**
 * Logs one point at a time with a flush after each, printing "acked <n>" or "flush-error <code>",
 * until the parent writes a line to its stdin; then ends the run and prints "ended" or
 * "end-error <code>". After PAUSE_AFTER acknowledged flushes it prints "pausing" and stops itself
 * (SIGSTOP) between two writes, so no transaction is open while it is stopped; the parent
 * resumes it (SIGCONT) after a reader's heartbeat timeout. It stops when told, not after a time,
 * so a slow machine changes nothing.
 */
import { createInterface } from 'node:readline'
import { Assay } from 'assay'
import { metricValue, requireEnv, say } from './protocol.mjs'

const store = requireEnv('STORE')
const pauseAfter = Number(requireEnv('PAUSE_AFTER'))

const code = (error) => String(error?.code ?? error)
let stop = false
const input = createInterface({ input: process.stdin })
input.once('line', () => {
  stop = true
  input.close()
})
const assay = await Assay.open({ store })
const run = await assay.startRun({ experiment: 'pausable', codeDir: store })
say(`run ${run.id}`)
for (let i = 0; !stop; i++) {
  try {
    await run.log({ loss: metricValue(i) }, { step: i })
    await run.flush()
    say(`acked ${i + 1}`)
    if (i + 1 === pauseAfter) {
      say('pausing')
      process.kill(process.pid, 'SIGSTOP')
    }
  } catch (error) {
    say(`flush-error ${code(error)}`)
  }
  // Yield to the event loop (a training step awaiting I/O would), so the stop line is read.
  await new Promise((resolve) => setTimeout(resolve, 5))
}
try {
  await run.end()
  say('ended')
} catch (error) {
  say(`end-error ${code(error)}`)
}

/**
 * Logs one point every 20 ms with a flush after each, for DURATION_MS, printing "acked <n>" or
 * "flush-error <code>", then ends the run and prints "ended" or "end-error <code>". The parent
 * pauses it (SIGSTOP) for longer than a reader's heartbeat timeout and resumes it.
 */
import { Assay } from '../../../src/index.js'
import { metricValue, requireEnv, say } from '../shared.js'

const store = requireEnv('STORE')
const duration = Number(requireEnv('DURATION_MS'))

const code = (error: unknown): string => String((error as { code?: unknown }).code ?? error)
const assay = await Assay.open({ store })
const run = await assay.startRun({ experiment: 'pausable', codeDir: store })
say(`run ${run.id}`)
const started = Date.now()
for (let i = 0; Date.now() - started < duration; i++) {
  try {
    await run.log({ loss: metricValue(i) }, { step: i })
    await run.flush()
    say(`acked ${i + 1}`)
  } catch (error) {
    say(`flush-error ${code(error)}`)
  }
  await new Promise((resolve) => setTimeout(resolve, 20))
}
try {
  await run.end()
  say('ended')
} catch (error) {
  say(`end-error ${code(error)}`)
}

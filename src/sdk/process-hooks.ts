/**
 * While runs are active, a process that ends badly still closes them: SIGINT/SIGTERM mark them
 * 'killed', an uncaught error 'failed'. The handlers exist only while a run is active, and
 * then mimic Node's own behaviour (print the error, exit 1; exit 128+signal).
 * A SIGKILL cannot be caught: such a run keeps 'running' until its heartbeat goes stale and a
 * reader marks it 'crashed'.
 */
/** What the hooks need of a run (declared here, so run.ts imports this file and not the other way round). */
export interface EndableRun {
  end(status: 'failed' | 'killed'): Promise<unknown>
}

const active = new Set<EndableRun>()
const ENDING_BUDGET_MS = 5_000

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 }

function endAll(status: 'failed' | 'killed'): Promise<unknown> {
  const ending = Promise.allSettled([...active].map((run) => run.end(status)))
  const budget = new Promise((resolve) => setTimeout(resolve, ENDING_BUDGET_MS).unref())
  return Promise.race([ending, budget])
}

function onSignal(signal: NodeJS.Signals): void {
  void endAll('killed').then(() => process.exit(SIGNAL_EXIT[signal] ?? 1))
}

function onFatal(error: unknown): void {
  void endAll('failed').then(() => {
    // The process is going down as Node would have taken it down; this line is its last word.
    // eslint-disable-next-line no-console
    console.error(error)
    process.exit(1)
  })
}

export function rememberActiveRun(run: EndableRun): void {
  if (active.size === 0) {
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    process.on('uncaughtException', onFatal)
    process.on('unhandledRejection', onFatal)
  }
  active.add(run)
}

export function forgetActiveRun(run: EndableRun): void {
  if (!active.delete(run) || active.size > 0) return
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
  process.off('uncaughtException', onFatal)
  process.off('unhandledRejection', onFatal)
}

import { Command } from 'commander'
import { replayPlan } from '../record/replay-plan.js'
import type { CliContext } from './context.js'
import { writeJson } from './output.js'

export function replayCommand(ctx: CliContext): Command {
  return new Command('replay')
    .argument('<run>', 'run id or unique prefix')
    .option('--json', 'print JSON (schema assay.replay/v1)')
    .action(async (runId: string, options: { json?: boolean }, self: Command) => {
      const plan = await ctx.withAssay(self, async (assay) => replayPlan(await assay.getRun(runId), { store: assay.store.location }))
      if (options.json) return writeJson(ctx.io, 'assay.replay/v1', { plan })
      const out = ctx.io.out
      out.write(`Replay of run ${plan.runId}\n`)
      plan.steps.forEach((step, i) => {
        out.write(`\n${i + 1}. ${step.title}\n`)
        for (const c of step.commands) out.write(`   ${c}\n`)
        if (step.note) out.write(`   (${step.note})\n`)
      })
      out.write(`\n${plan.steps.length + 1}. Check the datasets (content hashes)\n`)
      for (const d of plan.datasets) out.write(`   ${d.name} (${d.role}, ${d.kind}) sha256 ${d.sha256}\n     from ${d.source}${d.verify ? `\n     verify: ${d.verify}` : ''}\n`)
      out.write(`\nCannot be reproduced:\n`)
      for (const reason of plan.cannotReproduce) out.write(`   - ${reason}\n`)
    })
}

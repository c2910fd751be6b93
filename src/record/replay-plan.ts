import path from 'node:path'
import { redactCredentials } from './code-version.js'
import type { RunRecord } from './types.js'

export interface ReplayStep {
  title: string
  commands: string[]
  note?: string
}

export interface ReplayPlan {
  runId: string
  /** True when every part of the envelope can be restored from what was recorded. */
  reproducible: boolean
  steps: ReplayStep[]
  datasets: { name: string; role: string; sha256: string; kind: string; source: string; verify: string | null }[]
  seed: number
  /** Each thing that cannot be restored, and why. */
  cannotReproduce: string[]
}

const INSTALL_BY_LOCKFILE: Record<string, string> = {
  'package-lock.json': 'npm ci',
  'npm-shrinkwrap.json': 'npm ci',
  'pnpm-lock.yaml': 'pnpm install --frozen-lockfile',
  'yarn.lock': 'yarn install --frozen-lockfile',
  'bun.lock': 'bun install --frozen-lockfile',
  'uv.lock': 'uv sync --frozen',
  'poetry.lock': 'poetry install --no-root',
  'requirements.txt': 'pip install -r requirements.txt',
  'Cargo.lock': 'cargo build --locked',
}

export interface ReplayPlanOptions {
  /**
   * The store the run was read from (a directory or URL), printed as `assay --store …` so the
   * commands fetch from it whatever directory they run in. Credentials in a URL are not printed.
   */
  store?: string
}

/** The exact steps to reproduce a run from its record, and what cannot be reproduced and why. */
export function replayPlan(run: RunRecord, options: ReplayPlanOptions = {}): ReplayPlan {
  const steps: ReplayStep[] = []
  const cannot: string[] = []
  const { code, environment: env } = run

  if (code.vcs === 'git' && code.commit) {
    const commands: string[] = []
    // The diff is fetched first, from the named store, to a path outside any work tree: after
    // `cd replay` a bare `assay` would open a new, empty ./.assay there, and a patch file inside
    // the checkout would itself be an untracked file of the replayed run.
    const diffFile = `"\${TMPDIR:-/tmp}/assay-code-${run.id}.diff"`
    if (code.diffArtifact) {
      const store = options.store === undefined ? '' : ` --store ${shellQuote(redactCredentials(options.store))}`
      commands.push(`assay${store} artifacts get ${run.id} ${shellQuote(code.diffArtifact)} -o ${diffFile}`)
    }
    if (code.remote) commands.push(`git clone ${shellQuote(code.remote)} replay && cd replay`)
    else cannot.push('the git repository has no remote named origin: the commit exists only where the run was made')
    commands.push(`git checkout ${shellQuote(code.commit)}`)
    if (code.diffArtifact) commands.push(`git apply ${diffFile}`)
    steps.push({ title: 'Check out the code', commands, note: code.diffSha256 ? `the uncommitted diff has sha256 ${code.diffSha256}` : undefined })
    if (code.untracked && code.untracked.length > 0 && code.untrackedInDiff !== true) {
      cannot.push(`untracked files were present and are not recorded: ${code.untracked.slice(0, 10).join(', ')}${code.untracked.length > 10 ? ', …' : ''}`)
    }
  } else {
    cannot.push(`no code version: ${code.reason ?? 'not recorded'}`)
  }

  const install: string[] = [comment(`use ${env.runtime} ${env.runtimeVersion} (for example: nvm install ${env.runtimeVersion})`)]
  if (env.lockfile) {
    const base = path.basename(env.lockfile.path)
    install.push(INSTALL_BY_LOCKFILE[base] ?? comment(`install from ${base}`))
    steps.push({ title: 'Install the environment', commands: install, note: `${base} had sha256 ${env.lockfile.sha256}` })
  } else {
    steps.push({ title: 'Install the environment', commands: install })
    cannot.push('no lockfile was found: dependency versions are recorded but cannot be pinned by one install command')
  }

  // A name that is not a shell identifier (only in records written before names were checked) is left out.
  const exports = Object.entries(env.envVars)
    .filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
    .map(([k, v]) => `${k}=${shellQuote(v)}`)
  const inRepo = (a: string): string => (path.isAbsolute(a) && code.root && a.startsWith(code.root) ? path.relative(code.root, a) || '.' : a)
  // Node's own options (--import tsx, --require, --enable-source-maps) come before the script.
  const execArgv = (env.execArgv ?? []).map(inRepo)
  const argv = env.argv.slice(1).map(inRepo)
  const cwd = code.root && env.cwd.startsWith(code.root) ? path.relative(code.root, env.cwd) : env.cwd
  const command = [...exports, `ASSAY_SEED=${run.seed}`, shellQuote(env.runtime), ...execArgv.map(shellQuote), ...argv.map(shellQuote)].join(' ')
  steps.push({
    title: 'Run the command',
    commands: [...(cwd && cwd !== '' ? [`cd ${shellQuote(cwd)}`] : []), command],
    note: run.seedSource === 'drawn' ? `the seed ${run.seed} was drawn by assay; ASSAY_SEED hands it back to startRun` : `the seed ${run.seed} was set by the run itself`,
  })

  const datasets = run.datasets.map((d) => ({
    name: d.name,
    role: d.role,
    sha256: d.sha256,
    kind: d.kind,
    source: d.source,
    verify: d.kind === 'file' ? `echo ${shellQuote(`${d.sha256}  ${d.source}`)} | sha256sum -c` : null,
  }))
  if (env.gpu) cannot.push(`GPU kernels may not be bit-for-bit deterministic (${env.gpu.join(', ')})`)
  cannot.push(`numbers are expected to match only on the same hardware class: ${run.envelope.hardwareClass}`)
  const reproducible = cannot.length === 1
  return { runId: run.id, reproducible, steps, datasets, seed: run.seed, cannotReproduce: cannot }
}

/** A shell comment of one line: control characters (a newline would end it) are shown as '?'. */
function comment(text: string): string {
  // eslint-disable-next-line no-control-regex
  return `# ${text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')}`
}

/** One shell word: bare when it is plainly safe, else single-quoted (a quote inside as '\''). */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`
}

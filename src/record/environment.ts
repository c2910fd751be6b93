import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Environment } from './types.js'

/** Variables kept by default. Extend with ASSAY_ENV_ALLOWLIST="A,B" (names, comma-separated). */
export const DEFAULT_ENV_ALLOWLIST = [
  'NODE_ENV', 'NODE_OPTIONS', 'TZ', 'LANG', 'LC_ALL', 'CUDA_VISIBLE_DEVICES', 'OMP_NUM_THREADS',
  'MKL_NUM_THREADS', 'UV_THREADPOOL_SIZE', 'PYTHONHASHSEED', 'CI',
]

// Even an allowlisted name is dropped when it looks like it holds a secret.
// PASS also covers DB_PASS and SMTP_PASS; _PWD/_PW are MySQL-style passwords (PWD itself, the
// working directory, is not); PAT is a personal access token; a DSN (Sentry, databases) embeds one.
const SECRET_NAME = /TOKEN|SECRET|PASS|KEY|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE|DSN|_PWD?(_|$)|(^|_)PAT(_|$)/i

const LOCKFILES = ['package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'bun.lock', 'npm-shrinkwrap.json', 'uv.lock', 'poetry.lock', 'requirements.txt', 'Cargo.lock']

export function captureEnvironment(options: { cwd?: string; argv?: string[]; execArgv?: string[]; env?: NodeJS.ProcessEnv } = {}): Environment {
  const cwd = options.cwd ?? process.cwd()
  const env = options.env ?? process.env
  const cpus = os.cpus()
  const projectRoot = findUp(cwd, (dir) => LOCKFILES.some((f) => existsSync(path.join(dir, f))) || existsSync(path.join(dir, 'package.json')))
  return {
    runtime: 'node',
    runtimeVersion: process.versions.node,
    os: os.platform(),
    osRelease: os.release(),
    arch: os.arch(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus.length,
    memoryBytes: os.totalmem(),
    gpu: detectGpus(env),
    hostname: os.hostname(),
    argv: options.argv ?? process.argv.slice(),
    execArgv: options.execArgv ?? process.execArgv.slice(),
    cwd,
    lockfile: projectRoot ? hashLockfile(projectRoot) : null,
    dependencies: projectRoot ? directDependencies(projectRoot) : {},
    envVars: allowlistedEnv(env),
  }
}

export function allowlistedEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const extra = (env.ASSAY_ENV_ALLOWLIST ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  const out: Record<string, string> = {}
  for (const name of [...DEFAULT_ENV_ALLOWLIST, ...extra].sort()) {
    const value = env[name]
    if (value !== undefined && !SECRET_NAME.test(name)) out[name] = value
  }
  return out
}

function detectGpus(env: NodeJS.ProcessEnv): string[] | null {
  if (env.ASSAY_SKIP_GPU_DETECTION === '1') return null
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name,memory.total', '--format=csv,noheader'], {
      encoding: 'utf8', timeout: 3000, stdio: ['ignore', 'pipe', 'ignore'],
    })
    const gpus = out.split('\n').map((line) => line.trim()).filter(Boolean)
    return gpus.length > 0 ? gpus : null
  } catch {
    // No NVIDIA driver or no GPU: nothing to record.
    return null
  }
}

function hashLockfile(root: string): Environment['lockfile'] {
  for (const name of LOCKFILES) {
    const file = path.join(root, name)
    if (existsSync(file)) return { path: file, sha256: createHash('sha256').update(readFileSync(file)).digest('hex') }
  }
  return null
}

function directDependencies(root: string): Record<string, string> {
  const manifest = path.join(root, 'package.json')
  if (!existsSync(manifest)) return {}
  let pkg: { dependencies?: Record<string, string>; devDependencies?: Record<string, string> }
  try {
    pkg = JSON.parse(readFileSync(manifest, 'utf8'))
  } catch {
    return {}
  }
  const out: Record<string, string> = {}
  for (const name of Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).sort()) {
    // The installed version, not the declared range, is what ran.
    const installed = path.join(root, 'node_modules', name, 'package.json')
    try {
      out[name] = (JSON.parse(readFileSync(installed, 'utf8')) as { version: string }).version
    } catch {
      out[name] = `not installed (declared ${pkg.dependencies?.[name] ?? pkg.devDependencies?.[name] ?? '?'})`
    }
  }
  return out
}

export function findUp(start: string, found: (dir: string) => boolean): string | null {
  let dir = path.resolve(start)
  while (true) {
    if (found(dir)) return dir
    const parent = path.dirname(dir)
    if (parent === dir) return null
    dir = parent
  }
}

/** H: the hardware class. Runs on the same class are expected to give the same numbers. */
export function hardwareClass(env: Environment): string {
  return `${env.os}-${env.arch}/${env.cpuModel}/${env.cpuCount}cpu/${env.gpu?.join('+') ?? 'no-gpu'}`
}

import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { CodeVersion } from './types.js'

export interface CapturedCode {
  code: CodeVersion
  /** The uncommitted diff, to be stored as an artifact when the tree is dirty. */
  diff: Buffer | null
}

function git(cwd: string, args: string[], env?: NodeJS.ProcessEnv): Buffer {
  return execFileSync('git', args, { cwd, env, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 512 * 1024 * 1024, timeout: 30_000 })
}

function gitText(cwd: string, args: string[]): string | null {
  try {
    return git(cwd, args).toString('utf8').trim()
  } catch {
    return null
  }
}

export interface CaptureCodeOptions {
  /**
   * Directories that are not part of the code even when they lie inside the work tree: the
   * embedded store (./.assay by default) would otherwise make every run dirty.
   */
  exclude?: readonly string[]
}

/** c: commit, branch, remote, dirty flag and the uncommitted diff, read from git. */
export function captureCode(cwd: string = process.cwd(), options: CaptureCodeOptions = {}): CapturedCode {
  const root = gitText(cwd, ['rev-parse', '--show-toplevel'])
  if (root === null) return { code: { vcs: null, reason: `${cwd} is not inside a git work tree (or git is not installed)` }, diff: null }
  const commit = gitText(root, ['rev-parse', 'HEAD'])
  if (commit === null) return { code: { vcs: null, reason: 'the git repository has no commit yet' }, diff: null }
  const branch = gitText(root, ['rev-parse', '--abbrev-ref', 'HEAD'])
  const remote = gitText(root, ['remote', 'get-url', 'origin'])
  // -z: names as they are on disk (status --porcelain quotes and octal-escapes unusual ones).
  const excluded = excludePathspecs(root, options.exclude ?? [])
  const untracked = git(root, ['ls-files', '--others', '--exclude-standard', '-z', '--', '.', ...excluded]).toString('utf8').split('\0').filter(Boolean)
  const diff = workingTreeDiff(root, excluded)
  const dirty = diff.length > 0 || untracked.length > 0
  return {
    code: {
      vcs: 'git',
      commit,
      branch: branch === 'HEAD' ? null : branch,
      remote: remote === null ? null : redactCredentials(remote),
      dirty,
      diffSha256: diff.length > 0 ? createHash('sha256').update(diff).digest('hex') : null,
      diffArtifact: null,
      untracked,
      untrackedInDiff: true,
      root,
    },
    diff: diff.length > 0 ? diff : null,
  }
}

/**
 * HEAD against the working tree, untracked (not ignored) files included, so `git apply` of it on a
 * clean checkout of HEAD rebuilds the tree. It is taken through a temporary index (a copy of the
 * real one, which keeps its stat cache and sparse-checkout bits; else HEAD read into a fresh
 * one): `git add -A` there, then `git diff --cached HEAD`. The user's own index is never touched.
 * --binary keeps binary changes applicable; --no-ext-diff keeps user diff drivers out of it;
 * explicit a/ b/ prefixes keep diff.noprefix or diff.mnemonicPrefix from breaking `git apply`.
 */
function workingTreeDiff(root: string, excluded: readonly string[]): Buffer {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'assay-index-'))
  try {
    const index = path.join(scratch, 'index')
    const env = { ...process.env, GIT_INDEX_FILE: index }
    const realIndex = path.resolve(root, git(root, ['rev-parse', '--git-path', 'index']).toString('utf8').trim())
    let copied = false
    if (existsSync(realIndex)) {
      try {
        copyFileSync(realIndex, index)
        git(root, ['add', '-A', '--', '.', ...excluded], env)
        copied = true
      } catch {
        // A split or otherwise unusual index: start again from HEAD.
        rmSync(index, { force: true })
      }
    }
    if (!copied) {
      git(root, ['read-tree', 'HEAD'], env)
      git(root, ['add', '-A', '--', '.', ...excluded], env)
    }
    return git(root, ['diff', '--cached', 'HEAD', '--binary', '--no-ext-diff', '--no-color', '--src-prefix=a/', '--dst-prefix=b/'], env)
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

/** `:(exclude,literal)<dir>` for each directory inside the work tree (outside it, nothing to exclude). */
function excludePathspecs(root: string, dirs: readonly string[]): string[] {
  const realRoot = realpath(root)
  const out: string[] = []
  for (const dir of dirs) {
    const relative = path.relative(realRoot, realpath(path.resolve(dir)))
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) continue
    out.push(`:(exclude,literal)${relative.split(path.sep).join('/')}`)
  }
  return out
}

function realpath(p: string): string {
  try {
    return realpathSync(p)
  } catch {
    return p
  }
}

/**
 * https://user:token@host/repo → https://host/repo: a remote URL may carry a secret. Everything
 * up to the last '@' of the authority goes, so a password with an unencoded '@' does not leak.
 */
export function redactCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1')
}

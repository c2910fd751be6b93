import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdtempSync, realpathSync, rmSync, statSync, utimesSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { CodeVersion } from './types.js'

export interface CapturedCode {
  code: CodeVersion
  /** The uncommitted diff, to be stored as an artifact when the tree is dirty. */
  diff: Buffer | null
}

/** A git command that failed, with what git said (its stderr), so a run can record why. */
class GitCommandFailed extends Error {}

function git(cwd: string, args: string[], env?: NodeJS.ProcessEnv): Buffer {
  try {
    return execFileSync('git', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 512 * 1024 * 1024, timeout: 30_000 })
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: Buffer; status?: number | null }
    if (failure.code === 'ENOENT') throw new GitCommandFailed('git is not installed (no git on PATH)')
    const said = failure.stderr?.toString('utf8').trim().replace(/\s*\n\s*/g, '; ')
    throw new GitCommandFailed(`\`git ${args.join(' ')}\` failed${failure.status != null ? ` (exit ${failure.status})` : ''}: ${said || failure.message}`)
  }
}

export interface CaptureCodeOptions {
  /**
   * Directories that are not part of the code even when they lie inside the work tree: the
   * embedded store (./.assay by default) would otherwise make every run dirty.
   */
  exclude?: readonly string[]
}

/**
 * c: commit, branch, remote, dirty flag and the uncommitted diff, read from git. Never throws:
 * when git is missing or fails, the code version is `{ vcs: null, reason }` with git's own
 * message, so the run is still recorded (and gates find it unauditable).
 */
export function captureCode(cwd: string = process.cwd(), options: CaptureCodeOptions = {}): CapturedCode {
  try {
    return captureFromGit(cwd, options)
  } catch (error) {
    const why = error instanceof GitCommandFailed ? error.message : String(error)
    return { code: { vcs: null, reason: `code capture failed: ${why}` }, diff: null }
  }
}

function captureFromGit(cwd: string, options: CaptureCodeOptions): CapturedCode {
  let root: string
  try {
    root = git(cwd, ['rev-parse', '--show-toplevel']).toString('utf8').trim()
  } catch (error) {
    if (error instanceof GitCommandFailed && error.message.startsWith('git is not installed')) return { code: { vcs: null, reason: error.message }, diff: null }
    return { code: { vcs: null, reason: `${cwd} is not inside a git work tree` }, diff: null }
  }
  const commit = gitText(root, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'])
  if (commit === null) return { code: { vcs: null, reason: 'the git repository has no commit yet' }, diff: null }
  const branch = gitText(root, ['symbolic-ref', '--quiet', '--short', 'HEAD'])
  const remote = gitText(root, ['remote', 'get-url', 'origin'])
  const excluded = excludedDirectories(root, options.exclude ?? [])
  const allExcluded = excluded.map((d) => d.pathspec)
  // -z: names as they are on disk (status --porcelain quotes and octal-escapes unusual ones).
  const untracked = git(root, ['ls-files', '--others', '--exclude-standard', '-z', '--', '.', ...allExcluded]).toString('utf8').split('\0').filter(Boolean)
  const diff = workingTreeDiff(root, excluded)
  const dirty = diff.length > 0 || untracked.length > 0
  return {
    code: {
      vcs: 'git',
      commit,
      branch,
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

/** A command whose failure only means "no such thing" (no commit, detached HEAD, no remote). */
function gitText(cwd: string, args: string[]): string | null {
  try {
    return git(cwd, args).toString('utf8').trim()
  } catch {
    return null
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
function workingTreeDiff(root: string, excluded: readonly ExcludedDirectory[]): Buffer {
  // git add (2.39 at least) refuses an exclude pathspec naming a directory that .gitignore already
  // ignores; `add -A` skips such a directory anyway, so it is left out of add and out of the diff.
  const fromAdd = excluded.filter((d) => !d.ignored).map((d) => d.pathspec)
  const fromDiff = excluded.map((d) => d.pathspec)
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'assay-index-'))
  try {
    const index = path.join(scratch, 'index')
    const env = { ...process.env, GIT_INDEX_FILE: index }
    const realIndex = path.resolve(root, git(root, ['rev-parse', '--git-path', 'index']).toString('utf8').trim())
    let copied = false
    if (existsSync(realIndex)) {
      try {
        copyFileSync(realIndex, index)
        // The copy keeps the index's own mtime: git trusts an entry's cached stat only when the file
        // is older than the index, so a copy stamped "now" would hide an edit made in the same
        // second as the last `git add` (same size): the racy-git case.
        const { atime, mtime } = statSync(realIndex)
        utimesSync(index, atime, mtime)
        git(root, ['add', '-A', '--', '.', ...fromAdd], env)
        copied = true
      } catch {
        // A split or otherwise unusual index: start again from HEAD.
        rmSync(index, { force: true })
      }
    }
    if (!copied) {
      git(root, ['read-tree', 'HEAD'], env)
      git(root, ['add', '-A', '--', '.', ...fromAdd], env)
    }
    return git(root, ['diff', '--cached', 'HEAD', '--binary', '--no-ext-diff', '--no-color', '--src-prefix=a/', '--dst-prefix=b/', '--', '.', ...fromDiff], env)
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

interface ExcludedDirectory {
  /** `:(exclude,literal)<dir>`, relative to the work tree's root. */
  pathspec: string
  /** Whether the repository's own ignore rules already ignore it (or a directory above it). */
  ignored: boolean
}

/** The directories to leave out that lie inside the work tree (outside it, nothing to exclude). */
function excludedDirectories(root: string, dirs: readonly string[]): ExcludedDirectory[] {
  const realRoot = realpath(root)
  const out: ExcludedDirectory[] = []
  for (const dir of dirs) {
    const relative = path.relative(realRoot, realpath(path.resolve(dir)))
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) continue
    const posix = relative.split(path.sep).join('/')
    // --no-index: by the rules alone, even when files inside are tracked. Exit 1 is "not ignored".
    const ignored = gitText(root, ['check-ignore', '--quiet', '--no-index', '--', posix]) !== null
    out.push({ pathspec: `:(exclude,literal)${posix}`, ignored })
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

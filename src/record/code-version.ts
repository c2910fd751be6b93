import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import type { CodeVersion } from './types.js'

export interface CapturedCode {
  code: CodeVersion
  /** The uncommitted diff, to be stored as an artifact when the tree is dirty. */
  diff: Buffer | null
}

function git(cwd: string, args: string[]): Buffer {
  return execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 512 * 1024 * 1024, timeout: 30_000 })
}

function gitText(cwd: string, args: string[]): string | null {
  try {
    return git(cwd, args).toString('utf8').trim()
  } catch {
    return null
  }
}

/** c: commit, branch, remote, dirty flag and the uncommitted diff, read from git. */
export function captureCode(cwd: string = process.cwd()): CapturedCode {
  const root = gitText(cwd, ['rev-parse', '--show-toplevel'])
  if (root === null) return { code: { vcs: null, reason: `${cwd} is not inside a git work tree (or git is not installed)` }, diff: null }
  const commit = gitText(root, ['rev-parse', 'HEAD'])
  if (commit === null) return { code: { vcs: null, reason: 'the git repository has no commit yet' }, diff: null }
  const branch = gitText(root, ['rev-parse', '--abbrev-ref', 'HEAD'])
  const remote = gitText(root, ['remote', 'get-url', 'origin'])
  // -z: names as they are on disk (status --porcelain quotes and octal-escapes unusual ones).
  const untracked = git(root, ['ls-files', '--others', '--exclude-standard', '-z']).toString('utf8').split('\0').filter(Boolean)
  // --binary keeps binary changes applicable; --no-ext-diff keeps user diff drivers out of it;
  // explicit a/ b/ prefixes keep diff.noprefix or diff.mnemonicPrefix from breaking `git apply`.
  const diff = git(root, ['diff', 'HEAD', '--binary', '--no-ext-diff', '--no-color', '--src-prefix=a/', '--dst-prefix=b/'])
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
      root,
    },
    diff: diff.length > 0 ? diff : null,
  }
}

/**
 * https://user:token@host/repo → https://host/repo: a remote URL may carry a secret. Everything
 * up to the last '@' of the authority goes, so a password with an unencoded '@' does not leak.
 */
export function redactCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1')
}

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { captureCode, redactCredentials } from '../../src/record/code-version.js'
import type { RunRecord } from '../../src/record/types.js'
import { Assay, CODE_DIFF_ARTIFACT } from '../../src/sdk/assay.js'
import { tempDir } from '../store/backends.js'
import { openHarness } from '../sdk/harness.js'

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
}

function git(cwd: string, ...args: string[]): Buffer {
  return execFileSync('git', args, { cwd, env: GIT_ENV, stdio: ['ignore', 'pipe', 'pipe'] })
}

function sha256(bytes: string | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

const BINARY_V1 = Buffer.from([0, 1, 2, 3, 255, 254, 0, 0, 10, 0])
const BINARY_V2 = Buffer.from([0, 1, 2, 3, 255, 254, 0, 7, 10, 0, 99])

describe('code version from git', () => {
  let dir: string
  let repo: string
  let cleanup: () => void

  beforeEach(() => {
    ;({ dir, cleanup } = tempDir('assay-git-'))
    repo = path.join(dir, 'repo')
    mkdirSync(path.join(repo, 'src'), { recursive: true })
    git(repo, 'init', '-q', '-b', 'main')
    writeFileSync(path.join(repo, 'src', 'train.py'), 'lr = 0.1\nepochs = 10\n')
    writeFileSync(path.join(repo, 'weights.bin'), BINARY_V1)
    writeFileSync(path.join(repo, '.gitignore'), 'ignored/\n')
    git(repo, 'add', '.')
    git(repo, 'commit', '-q', '-m', 'initial')
  })
  afterEach(() => cleanup())

  function dirty(): void {
    writeFileSync(path.join(repo, 'src', 'train.py'), 'lr = 0.2\nepochs = 10\nwarmup = 5\n')
    writeFileSync(path.join(repo, 'weights.bin'), BINARY_V2)
    writeFileSync(path.join(repo, 'notes with space.txt'), 'untracked\n')
    mkdirSync(path.join(repo, 'ignored'))
    writeFileSync(path.join(repo, 'ignored', 'cache.txt'), 'ignored\n')
  }

  test('a clean tree: commit and branch, not dirty, no diff', () => {
    const { code, diff } = captureCode(repo)
    assert.equal(code.vcs, 'git')
    assert.equal(code.commit, git(repo, 'rev-parse', 'HEAD').toString().trim())
    assert.equal(code.branch, 'main')
    assert.equal(code.remote, null)
    assert.equal(code.dirty, false)
    assert.equal(code.diffSha256, null)
    assert.deepEqual(code.untracked, [])
    assert.equal(code.root, git(repo, 'rev-parse', '--show-toplevel').toString().trim())
    assert.equal(diff, null)
  })

  test('a dirty tree: the diff takes HEAD to the working tree, untracked files included and ignored ones not; the real index is untouched', () => {
    dirty()
    git(repo, 'add', 'src/train.py') // something staged, to see that the user's index stays as it was
    const indexBefore = readFileSync(path.join(repo, '.git', 'index'))
    const statusBefore = git(repo, 'status', '--porcelain', '-z').toString()
    const { code, diff } = captureCode(path.join(repo, 'src'))
    assert.deepEqual(readFileSync(path.join(repo, '.git', 'index')), indexBefore, 'the index file is byte-identical')
    assert.equal(git(repo, 'status', '--porcelain', '-z').toString(), statusBefore)
    assert.ok(diff !== null)
    assert.equal(code.dirty, true)
    assert.equal(code.diffSha256, sha256(diff))
    assert.equal(code.untrackedInDiff, true)
    assert.deepEqual(code.untracked, ['notes with space.txt'], 'ignored files are not listed; names are not quoted')
    // Independent check: applied to a clean clone at HEAD, the diff rebuilds every non-ignored file.
    const clone = path.join(dir, 'clone')
    git(dir, 'clone', '-q', repo, clone)
    const patch = path.join(dir, 'code.diff')
    writeFileSync(patch, diff)
    git(clone, 'apply', '--binary', patch)
    assert.equal(readFileSync(path.join(clone, 'src', 'train.py'), 'utf8'), 'lr = 0.2\nepochs = 10\nwarmup = 5\n')
    assert.deepEqual(readFileSync(path.join(clone, 'weights.bin')), BINARY_V2)
    assert.equal(readFileSync(path.join(clone, 'notes with space.txt'), 'utf8'), 'untracked\n')
    assert.equal(existsSync(path.join(clone, 'ignored')), false, 'ignored files are not in the diff')
  })

  test('untracked files alone make the tree dirty, and the diff creates them', () => {
    writeFileSync(path.join(repo, 'new.py'), 'x = 1\n')
    const { code, diff } = captureCode(repo)
    assert.equal(code.dirty, true)
    assert.ok(diff !== null)
    assert.equal(code.diffSha256, sha256(diff))
    assert.deepEqual(code.untracked, ['new.py'])
    assert.match(diff.toString(), /^diff --git a\/new\.py b\/new\.py\nnew file mode 100644\n/)
    assert.match(diff.toString(), /\n\+x = 1\n$/)
    // A different untracked content is a different code version.
    writeFileSync(path.join(repo, 'new.py'), 'x = 2\n')
    assert.notEqual(captureCode(repo).code.diffSha256, code.diffSha256)
  })

  test('an edit that keeps the size and the cached stat of a file (the racy-git case) still makes the tree dirty', () => {
    // The file and the index as git leaves them when a file is rewritten in the same second as
    // the last `git add`: the same size and mtime as the index entry, and the index no newer than
    // the file, so git must look at the content. ctime is the one stat field utimes cannot set,
    // so the repository ignores it (core.trustctime=false, as on some file systems).
    git(repo, 'config', 'core.trustctime', 'false')
    const file = path.join(repo, 'src', 'train.py')
    const anHourAgo = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000)
    utimesSync(file, anHourAgo, anHourAgo)
    git(repo, 'add', 'src/train.py')
    writeFileSync(file, 'lr = 0.3\nepochs = 10\n') // same size as 'lr = 0.1\nepochs = 10\n'
    utimesSync(file, anHourAgo, anHourAgo)
    utimesSync(path.join(repo, '.git', 'index'), anHourAgo, anHourAgo)
    assert.match(git(repo, '--no-optional-locks', 'status', '--porcelain').toString(), /^ M src\/train\.py$/m, 'git itself sees the change (without rewriting the index)')
    const { code, diff } = captureCode(repo)
    assert.equal(code.dirty, true)
    assert.match(diff?.toString() ?? '', /^\+lr = 0\.3$/m)
  })

  test('a detached HEAD has no branch', () => {
    git(repo, 'checkout', '-q', '--detach')
    const { code } = captureCode(repo)
    assert.equal(code.branch, null)
    assert.equal(code.commit, git(repo, 'rev-parse', 'HEAD').toString().trim())
  })

  test('outside git, and in a repository without commits, there is no code version and a reason', () => {
    const plain = path.join(dir, 'plain')
    mkdirSync(plain)
    const outside = captureCode(plain)
    assert.equal(outside.code.vcs, null)
    assert.match(outside.code.reason ?? '', /not inside a git work tree/)
    assert.equal(outside.diff, null)
    const empty = path.join(dir, 'empty')
    mkdirSync(empty)
    git(empty, 'init', '-q')
    const fresh = captureCode(empty)
    assert.equal(fresh.code.vcs, null)
    assert.match(fresh.code.reason ?? '', /no commit/)
  })

  test('remote credentials are redacted', () => {
    git(repo, 'remote', 'add', 'origin', 'https://alice:ghp_s3cret@github.com/org/project.git')
    const { code } = captureCode(repo)
    assert.equal(code.remote, 'https://github.com/org/project.git')
  })

  test('redactCredentials: user, token and password forms, with the rest of the URL kept', () => {
    const cases: [string, string][] = [
      ['https://user:token@github.com/org/repo.git', 'https://github.com/org/repo.git'],
      ['https://x-access-token:ghs_abc@github.com/org/repo', 'https://github.com/org/repo'],
      ['https://ghp_tokenonly@github.com/org/repo', 'https://github.com/org/repo'],
      ['https://user:p@ss@host.example/repo', 'https://host.example/repo'],
      ['https://user:p%40ss@host.example:8443/repo', 'https://host.example:8443/repo'],
      ['ssh://git:pw@host.example/repo.git', 'ssh://host.example/repo.git'],
      ['HTTPS://u:p@Host/Repo', 'HTTPS://Host/Repo'],
      ['https://github.com/org/repo.git', 'https://github.com/org/repo.git'],
      ['https://github.com/org/repo@v1', 'https://github.com/org/repo@v1'],
      ['git@github.com:org/repo.git', 'git@github.com:org/repo.git'],
      ['/srv/git/repo.git', '/srv/git/repo.git'],
    ]
    for (const [url, expected] of cases) assert.equal(redactCredentials(url), expected, url)
  })

  test('through the SDK: the diff is stored as assay/code.diff and `git apply` onto a clean checkout reproduces the working tree', async () => {
    git(repo, 'remote', 'add', 'origin', 'https://bob:hunter2@example.com/org/project.git')
    dirty()
    const trackedChanges = git(repo, 'diff', 'HEAD', '--binary')
    const h = await openHarness()
    try {
      const run = await h.start({ codeDir: repo })
      await run.end()
      const record = await h.assay.getRun(run.id)
      assert.equal(record.code.commit, git(repo, 'rev-parse', 'HEAD').toString().trim())
      assert.equal(record.code.branch, 'main')
      assert.equal(record.code.dirty, true)
      assert.equal(record.code.remote, 'https://example.com/org/project.git')
      assert.ok(!JSON.stringify(record).includes('hunter2'))
      assert.equal(record.code.diffArtifact, CODE_DIFF_ARTIFACT)
      const stored = await h.assay.getArtifact(run.id, CODE_DIFF_ARTIFACT)
      assert.equal(record.code.diffSha256, sha256(stored))
      const artifact = record.artifacts.find((a) => a.name === CODE_DIFF_ARTIFACT)
      assert.equal(artifact?.sha256, sha256(stored))
      assert.equal(artifact?.direction, 'produced')

      const clone = path.join(dir, 'clone')
      git(dir, 'clone', '-q', repo, clone)
      git(clone, 'checkout', '-q', record.code.commit as string)
      const patch = path.join(dir, 'code.diff')
      writeFileSync(patch, stored)
      git(clone, 'apply', '--binary', patch)
      assert.equal(readFileSync(path.join(clone, 'src', 'train.py'), 'utf8'), readFileSync(path.join(repo, 'src', 'train.py'), 'utf8'))
      assert.deepEqual(readFileSync(path.join(clone, 'weights.bin')), BINARY_V2)
      assert.equal(readFileSync(path.join(clone, 'notes with space.txt'), 'utf8'), 'untracked\n', 'the untracked file is rebuilt too')
      assert.equal(git(clone, 'diff', 'HEAD', '--binary').toString('base64'), trackedChanges.toString('base64'))
    } finally {
      await h.cleanup()
    }
  })

  test('the stored diff applies even when the user configures diff.noprefix', async () => {
    git(repo, 'config', 'diff.noprefix', 'true')
    dirty()
    const { diff } = captureCode(repo)
    assert.ok(diff !== null)
    const clone = path.join(dir, 'clone')
    git(dir, 'clone', '-q', repo, clone)
    const patch = path.join(dir, 'code.diff')
    writeFileSync(patch, diff)
    git(clone, 'apply', '--binary', patch)
    assert.deepEqual(readFileSync(path.join(clone, 'weights.bin')), BINARY_V2)
    assert.equal(readFileSync(path.join(clone, 'src', 'train.py'), 'utf8'), 'lr = 0.2\nepochs = 10\nwarmup = 5\n')
  })

  test('a clean run stores no diff artifact', async () => {
    const h = await openHarness()
    try {
      const run = await h.start({ codeDir: repo })
      await run.end()
      const record = await h.assay.getRun(run.id)
      assert.equal(record.code.dirty, false)
      assert.equal(record.code.diffArtifact, null)
      assert.deepEqual(record.artifacts, [])
    } finally {
      await h.cleanup()
    }
  })
})

describe('the embedded store inside the work tree', () => {
  let dir: string
  let repo: string
  let cleanup: () => void

  beforeEach(() => {
    ;({ dir, cleanup } = tempDir('assay-git-store-'))
    repo = path.join(dir, 'repo')
    mkdirSync(repo)
    git(repo, 'init', '-q', '-b', 'main')
    // No .gitignore: the user's repository knows nothing about assay.
    writeFileSync(path.join(repo, 'train.py'), 'lr = 0.1\n')
    git(repo, 'add', '.')
    git(repo, 'commit', '-q', '-m', 'initial')
  })
  afterEach(() => cleanup())

  async function twoSeeds(store: string): Promise<RunRecord[]> {
    const assay = await Assay.open({ store })
    try {
      const records: RunRecord[] = []
      for (const seed of [1, 2]) {
        const run = await assay.startRun({ experiment: 'e', params: { lr: 0.1 }, seed, codeDir: repo })
        await run.log({ loss: seed })
        await run.end()
        records.push(await assay.getRun(run.id))
      }
      return records
    } finally {
      await assay.close()
    }
  }

  test('runs that differ only by seed share the config fingerprint and are clean (the store ignores itself)', async () => {
    const store = path.join(repo, '.assay')
    const [a, b] = await twoSeeds(store)
    assert.equal(a.code.dirty, false)
    assert.equal(b.code.dirty, false)
    assert.deepEqual(b.code.untracked, [])
    assert.notEqual(a.envelope.seed, b.envelope.seed)
    assert.equal(a.envelope.config, b.envelope.config)
    assert.equal(readFileSync(path.join(store, '.gitignore'), 'utf8'), '*\n')
    assert.equal(git(repo, 'status', '--porcelain').toString(), '', 'git itself sees a clean tree')
  })

  test('a store directory that already existed (no .gitignore written) is still left out of the code version', async () => {
    const store = path.join(repo, 'runs store')
    mkdirSync(store)
    const [a, b] = await twoSeeds(store)
    assert.equal(existsSync(path.join(store, '.gitignore')), false, 'an existing directory is not written into')
    assert.ok(git(repo, 'status', '--porcelain').toString().includes('runs store'), 'git does see the store')
    assert.equal(a.code.dirty, false)
    assert.deepEqual(b.code.untracked, [])
    assert.equal(a.envelope.config, b.envelope.config)
    // Another untracked file still counts.
    writeFileSync(path.join(repo, 'notes.txt'), 'x\n')
    assert.deepEqual(captureCode(repo, { exclude: [store] }).code.untracked, ['notes.txt'])
  })
})

describe('code capture never stops a run', () => {
  let dir: string
  let repo: string
  let cleanup: () => void

  beforeEach(() => {
    ;({ dir, cleanup } = tempDir('assay-git-fail-'))
    repo = path.join(dir, 'repo')
    mkdirSync(repo)
    git(repo, 'init', '-q', '-b', 'main')
    writeFileSync(path.join(repo, 'train.py'), 'lr = 0.1\n')
  })
  afterEach(() => cleanup())

  function commit(): void {
    git(repo, 'add', '.')
    git(repo, 'commit', '-q', '-m', 'initial')
  }

  /** One run through the SDK with the embedded store at `store`; its stored record. */
  async function recordRun(store: string): Promise<RunRecord> {
    const assay = await Assay.open({ store })
    try {
      const run = await assay.startRun({ experiment: 'e', seed: 1, codeDir: repo })
      await run.log({ loss: 1 })
      await run.end()
      return await assay.getRun(run.id)
    } finally {
      await assay.close()
    }
  }

  test("a .gitignore that lists the store directory (the project's own quick start): the run is recorded with its code version", async () => {
    writeFileSync(path.join(repo, '.gitignore'), '.assay\nnode_modules/\n')
    commit()
    writeFileSync(path.join(repo, 'train.py'), 'lr = 0.2\n')
    writeFileSync(path.join(repo, 'new.py'), 'x = 1\n')
    const record = await recordRun(path.join(repo, '.assay'))
    assert.equal(record.code.vcs, 'git', record.code.reason)
    assert.equal(record.code.commit, git(repo, 'rev-parse', 'HEAD').toString().trim())
    assert.equal(record.code.dirty, true)
    assert.deepEqual(record.code.untracked, ['new.py'])
    const again = captureCode(repo, { exclude: [path.join(repo, '.assay')] })
    assert.ok(again.diff !== null)
    assert.match(again.diff.toString(), /^diff --git a\/new\.py b\/new\.py\n/m)
    assert.match(again.diff.toString(), /^diff --git a\/train\.py b\/train\.py\n/m)
    assert.doesNotMatch(again.diff.toString(), /\.assay/, 'nothing of the store is in the diff')
  })

  test('a store inside an ignored directory, and an ignored store directory with a tracked file in it, stay out of the diff', () => {
    writeFileSync(path.join(repo, '.gitignore'), 'runs/\n')
    mkdirSync(path.join(repo, 'kept'))
    writeFileSync(path.join(repo, 'kept', 'tracked.txt'), 'v1\n')
    commit()
    writeFileSync(path.join(repo, '.gitignore'), 'runs/\nkept/\n')
    git(repo, 'commit', '-q', '-am', 'ignore kept/')
    mkdirSync(path.join(repo, 'runs', 'store'), { recursive: true })
    writeFileSync(path.join(repo, 'runs', 'store', 'assay.db'), 'x')
    writeFileSync(path.join(repo, 'kept', 'tracked.txt'), 'v2\n')
    writeFileSync(path.join(repo, 'kept', 'new.txt'), 'n\n')
    const nested = captureCode(repo, { exclude: [path.join(repo, 'runs', 'store')] })
    assert.equal(nested.code.vcs, 'git', nested.code.reason)
    assert.equal(nested.code.dirty, true, 'kept/tracked.txt changed and is not excluded')
    assert.match(nested.diff?.toString() ?? '', /a\/kept\/tracked\.txt/)
    const kept = captureCode(repo, { exclude: [path.join(repo, 'kept')] })
    assert.equal(kept.code.vcs, 'git', kept.code.reason)
    assert.equal(kept.code.dirty, false, 'the only change is inside the excluded directory')
    assert.equal(kept.diff, null)
  })

  test('a repository with no commits: the run is recorded, with no code version and the reason', async () => {
    const record = await recordRun(path.join(dir, 'store'))
    assert.equal(record.status, 'finished')
    assert.equal(record.code.vcs, null)
    assert.match(record.code.reason ?? '', /no commit yet/)
  })

  test('a detached HEAD with changes: commit, no branch, and the diff', async () => {
    commit()
    git(repo, 'checkout', '-q', '--detach')
    writeFileSync(path.join(repo, 'train.py'), 'lr = 0.3\n')
    const record = await recordRun(path.join(dir, 'store'))
    assert.equal(record.code.vcs, 'git')
    assert.equal(record.code.branch, null)
    assert.equal(record.code.commit, git(repo, 'rev-parse', 'HEAD').toString().trim())
    assert.equal(record.code.dirty, true)
    assert.equal(record.code.diffArtifact, CODE_DIFF_ARTIFACT)
  })

  test('git missing from PATH: the run is recorded, and the code version says git is not installed', async () => {
    commit()
    const savedPath = process.env.PATH
    process.env.PATH = path.join(dir, 'no-binaries-here')
    let record: RunRecord
    try {
      record = await recordRun(path.join(dir, 'store'))
    } finally {
      process.env.PATH = savedPath
    }
    assert.equal(record.status, 'finished')
    assert.equal(record.code.vcs, null)
    assert.match(record.code.reason ?? '', /git is not installed/)
  })

  test("git failing during capture (an untracked repository without commits inside the tree): the run is recorded, with git's message", async () => {
    commit()
    mkdirSync(path.join(repo, 'vendor'))
    git(path.join(repo, 'vendor'), 'init', '-q')
    writeFileSync(path.join(repo, 'vendor', 'lib.py'), 'y = 2\n')
    const record = await recordRun(path.join(dir, 'store'))
    assert.equal(record.status, 'finished')
    assert.equal(record.code.vcs, null)
    assert.match(record.code.reason ?? '', /^code capture failed: `git add -A -- \.` failed \(exit 128\): error: 'vendor\/' does not have a commit checked out/)
  })
})

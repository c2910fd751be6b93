import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { ErrorCode } from '../../src/errors.js'
import { isAssayError } from '../../src/errors.js'
import { computeEnvelope } from '../../src/record/envelope.js'
import type { CodeVersion, DatasetVersion, Environment, RunRecord } from '../../src/record/types.js'
import type { MetricColumns } from '../../src/store/chunk-codec.js'
import { artifactBytes } from '../../src/store/blob-store.js'
import type { MetricSeries, NewRun, Store } from '../../src/store/store.js'

/** An artifact's bytes read whole through the streaming contract (verified as they pass). */
export async function readBytes(store: Store, runId: string, name: string): Promise<Buffer> {
  return artifactBytes(await store.readArtifact(runId, name))
}

export function runId(): string {
  return randomUUID().replaceAll('-', '')
}

export const ENVIRONMENT: Environment = {
  runtime: 'node',
  runtimeVersion: '20.19.0',
  os: 'linux',
  osRelease: '6.1.0',
  arch: 'x64',
  cpuModel: 'Test CPU @ 3.00GHz',
  cpuCount: 8,
  memoryBytes: 16 * 1024 ** 3,
  gpu: ['NVIDIA A100, 40960 MiB'],
  hostname: 'test-host',
  argv: ['node', 'train.js', '--lr', '0.1'],
  cwd: '/work/project',
  lockfile: { path: '/work/project/package-lock.json', sha256: 'a'.repeat(64) },
  dependencies: { zod: '4.0.0', 'better-sqlite3': '12.0.0' },
  envVars: { NODE_ENV: 'test', TZ: 'UTC' },
}

export const CODE: CodeVersion = {
  vcs: 'git',
  commit: '0123456789abcdef0123456789abcdef01234567',
  branch: 'main',
  remote: 'https://github.com/example/project.git',
  dirty: true,
  diffSha256: 'b'.repeat(64),
  diffArtifact: 'assay/code.diff',
  untracked: ['notes.txt'],
  root: '/work/project',
}

export const DATASETS: DatasetVersion[] = [
  { name: 'train', role: 'train', sha256: 'c'.repeat(64), kind: 'directory', sizeBytes: 4096, fileCount: 3, rows: null, columns: null, source: 's3://bucket/train' },
  { name: 'val', role: 'validation', sha256: 'd'.repeat(64), kind: 'file', sizeBytes: 120, fileCount: 1, rows: 10, columns: ['id', 'label'], source: '/data/val.csv' },
]

export function newRun(overrides: Partial<NewRun> = {}): NewRun {
  return {
    id: runId(),
    experiment: 'exp-a',
    name: 'run-one',
    owner: 'tester',
    startTime: 1_700_000_000_000,
    parentId: null,
    groupId: null,
    params: { lr: 0.1, layers: [64, 32], optimizer: { name: 'adam', betas: [0.9, 0.999] }, nested_null: null, flag: true, label: 'x' },
    seed: 42,
    seedSource: 'user',
    tags: { team: 'vision', 'stage/phase': 'dev' },
    environment: ENVIRONMENT,
    code: CODE,
    datasets: DATASETS,
    ...overrides,
  }
}

export function series(key: string, points: readonly (readonly [step: number, value: number])[], timestamp = 1_700_000_000_500): MetricSeries {
  return {
    key,
    steps: Float64Array.from(points.map((p) => p[0])),
    values: Float64Array.from(points.map((p) => p[1])),
    timestamps: Float64Array.from(points.map((_, i) => timestamp + i)),
  }
}

/** Float64 columns as plain arrays, so deepStrictEqual compares NaN and -0 by Object.is. */
export function plain(columns: MetricColumns): { steps: number[]; values: number[]; timestamps: number[] } {
  return { steps: [...columns.steps], values: [...columns.values], timestamps: [...columns.timestamps] }
}

/** Await `promise` and require it to reject with an AssayError carrying `code`; returns the error. */
export async function rejectsWith(promise: Promise<unknown> | (() => Promise<unknown>), code: ErrorCode, message?: RegExp): Promise<Error> {
  let caught: unknown
  try {
    await (typeof promise === 'function' ? promise() : promise)
  } catch (error) {
    caught = error
  }
  assert.ok(caught !== undefined, `expected a rejection with ${code}, but it resolved`)
  assert.ok(isAssayError(caught, code), `expected ${code}, got ${caught instanceof Error ? `${caught.name}: ${(caught as { code?: string }).code ?? ''} ${caught.message}` : String(caught)}`)
  if (message) assert.match(caught.message, message)
  return caught
}

/** The synchronous twin of rejectsWith. */
export function throwsWith(fn: () => unknown, code: ErrorCode, message?: RegExp): Error {
  let caught: unknown
  try {
    fn()
  } catch (error) {
    caught = error
  }
  assert.ok(caught !== undefined, `expected a throw with ${code}, but it returned`)
  assert.ok(isAssayError(caught, code), `expected ${code}, got ${caught instanceof Error ? `${(caught as { code?: string }).code ?? caught.name} ${caught.message}` : String(caught)}`)
  if (message) assert.match(caught.message, message)
  return caught
}

/** A whole finished run record built from the fixtures above (parts overridable), with its envelope. */
export function finishedRecord(overrides: Partial<Pick<RunRecord, 'params' | 'seed' | 'environment' | 'code' | 'datasets'>> = {}): RunRecord {
  const parts = { params: {}, seed: 7, environment: ENVIRONMENT, code: CODE, datasets: DATASETS, ...overrides }
  return {
    id: 'abc123abc123abc123abc123abc123ab',
    experiment: 'e',
    name: 'r',
    owner: 'o',
    status: 'finished',
    startTime: 0,
    endTime: 1,
    heartbeatAt: 1,
    parentId: null,
    groupId: null,
    seedSource: 'user',
    tags: {},
    metrics: [],
    evals: [],
    artifacts: [],
    ...parts,
    envelope: computeEnvelope(parts),
  } as RunRecord
}

/** Every item of a listing, page by page: each page holds at most `limit` items and only the last one fewer. */
export async function walkPages<P extends { nextCursor: string | null }, T>(page: (cursor: string | undefined) => Promise<P>, itemsOf: (page: P) => readonly T[], limit: number): Promise<{ items: T[]; pages: number }> {
  const items: T[] = []
  let cursor: string | undefined
  let pages = 0
  for (;;) {
    const next = await page(cursor)
    pages++
    const got = itemsOf(next)
    assert.ok(got.length <= limit, `page ${pages} holds ${got.length} items, more than ${limit}`)
    items.push(...got)
    if (next.nextCursor === null) return { items, pages }
    assert.equal(got.length, limit, `page ${pages} is not the last, so it is full`)
    cursor = next.nextCursor
  }
}

import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { hashFile, versionDataset } from '../../src/record/datasets.js'
import { tempDir } from '../store/backends.js'
import { rejectsWith } from '../store/fixtures.js'

function sha256(bytes: string | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex')
}

describe('dataset versioning', () => {
  let dir: string
  let cleanup: () => void
  beforeEach(() => {
    ;({ dir, cleanup } = tempDir('assay-data-'))
  })
  afterEach(() => cleanup())

  function write(relative: string, content: string | Buffer): string {
    const file = path.join(dir, relative)
    mkdirSync(path.dirname(file), { recursive: true })
    writeFileSync(file, content)
    return file
  }

  test('a file is named by the sha256 of its bytes', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13])
    const file = write('blob.bin', bytes)
    const v = await versionDataset({ name: 'blob', path: file, role: 'train' })
    assert.equal(v.sha256, sha256(bytes))
    assert.equal(v.kind, 'file')
    assert.equal(v.sizeBytes, bytes.length)
    assert.equal(v.fileCount, 1)
    assert.equal(v.rows, null, 'not a table format')
    assert.equal(v.columns, null)
    assert.equal(v.source, file)
    assert.equal(v.role, 'train')
    assert.deepEqual(await hashFile(file), { sha256: sha256(bytes), size: bytes.length })
  })

  test('a large file is hashed whole (several read chunks)', async () => {
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 17)
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff
    const file = write('big.bin', bytes)
    const v = await versionDataset({ name: 'big', path: file, role: 'other' })
    assert.equal(v.sha256, sha256(bytes))
    assert.equal(v.sizeBytes, bytes.length)
  })

  test('a relative path is resolved; source defaults to the absolute path and may be given', async () => {
    write('rel.txt', 'hello')
    const cwd = process.cwd()
    process.chdir(dir)
    try {
      const v = await versionDataset({ name: 'rel', path: 'rel.txt', role: 'test' })
      assert.equal(v.source, path.join(dir, 'rel.txt'))
      const w = await versionDataset({ name: 'rel', path: 'rel.txt', role: 'test', source: 'hf://org/ds@rev' })
      assert.equal(w.source, 'hf://org/ds@rev')
      assert.equal(w.sha256, sha256('hello'))
    } finally {
      process.chdir(cwd)
    }
  })

  test('a directory manifest hash does not depend on the order files were created in', async () => {
    const files: [string, string][] = [['b.txt', 'bee'], ['a.txt', 'ay'], ['sub/c.txt', 'see'], ['sub/deeper/d.bin', 'dee'], ['z', '']]
    for (const [name, content] of files) write(path.join('one', name), content)
    for (const [name, content] of [...files].reverse()) write(path.join('two', name), content)
    const one = await versionDataset({ name: 'd', path: path.join(dir, 'one'), role: 'train' })
    const two = await versionDataset({ name: 'd', path: path.join(dir, 'two'), role: 'train' })
    assert.equal(one.sha256, two.sha256)
    assert.equal(one.kind, 'directory')
    assert.equal(one.fileCount, 5)
    assert.equal(one.sizeBytes, 3 + 2 + 3 + 3 + 0)
    // The documented manifest: "sha256  relative/path\n" per file, sorted by path.
    const manifest = [...files]
      .map(([name, content]) => [name, content] as const)
      .sort((x, y) => (x[0] < y[0] ? -1 : 1))
      .map(([name, content]) => `${sha256(content)}  ${name}\n`)
      .join('')
    assert.equal(one.sha256, sha256(manifest))
  })

  test('the directory hash changes when any file changes, is added, removed or renamed', async () => {
    write('d/a.txt', 'one')
    write('d/sub/b.txt', 'two')
    const root = path.join(dir, 'd')
    const version = async (): Promise<string> => (await versionDataset({ name: 'd', path: root, role: 'train' })).sha256
    const seen = new Set<string>([await version()])
    const expectNew = async (what: string): Promise<void> => {
      const next = await version()
      assert.ok(!seen.has(next), `${what} must change the hash`)
      seen.add(next)
    }
    write('d/sub/b.txt', 'twO')
    await expectNew('one changed byte in a nested file')
    write('d/new.txt', '')
    await expectNew('an added empty file')
    rmSync(path.join(root, 'new.txt'))
    assert.ok(seen.has(await version()), 'removing it again gives the earlier hash back')
    rmSync(path.join(root, 'a.txt'))
    write('d/renamed.txt', 'one')
    await expectNew('a renamed file')
    assert.equal(await version(), await version(), 'stable when nothing changes')
  })

  test('files a directory holds through symlinks are versioned like files (as in a Hugging Face cache snapshot)', async () => {
    write('blobs/aaa', 'weights one')
    write('blobs/bbb', 'config')
    mkdirSync(path.join(dir, 'snapshot'))
    symlinkSync(path.join(dir, 'blobs', 'aaa'), path.join(dir, 'snapshot', 'model.bin'))
    symlinkSync(path.join('..', 'blobs', 'bbb'), path.join(dir, 'snapshot', 'config.json'))
    const root = path.join(dir, 'snapshot')
    const v = await versionDataset({ name: 'snap', path: root, role: 'train' })
    assert.equal(v.fileCount, 2)
    assert.equal(v.sizeBytes, 'weights one'.length + 'config'.length)
    assert.equal(v.sha256, sha256(`${sha256('config')}  config.json\n${sha256('weights one')}  model.bin\n`))
    write('blobs/aaa', 'weights two')
    assert.notEqual((await versionDataset({ name: 'snap', path: root, role: 'train' })).sha256, v.sha256, 'the linked content is what is hashed')
  })

  test('a dangling symlink inside a directory is ASSAY_DATASET_NOT_FOUND, not a silently smaller dataset', async () => {
    write('d/a.txt', 'a')
    symlinkSync(path.join(dir, 'gone.txt'), path.join(dir, 'd', 'b.txt'))
    await rejectsWith(versionDataset({ name: 'd', path: path.join(dir, 'd'), role: 'train' }), 'ASSAY_DATASET_NOT_FOUND', /b\.txt/)
  })

  test('a symlinked subdirectory is walked; a symlink cycle is refused instead of looping', async () => {
    write('shared/x.txt', 'x')
    write('d/a.txt', 'a')
    symlinkSync(path.join(dir, 'shared'), path.join(dir, 'd', 'linked'))
    const v = await versionDataset({ name: 'd', path: path.join(dir, 'd'), role: 'train' })
    assert.equal(v.sha256, sha256(`${sha256('a')}  a.txt\n${sha256('x')}  linked/x.txt\n`))
    symlinkSync(path.join(dir, 'd'), path.join(dir, 'd', 'loop'))
    await rejectsWith(versionDataset({ name: 'd', path: path.join(dir, 'd'), role: 'train' }), 'ASSAY_INVALID_ARGUMENT', /cycle/)
  })

  test('CSV: rows exclude the header, columns come from it (quotes and CRLF handled)', async () => {
    const csv = write('data.csv', '"id","text",label\r\n1,hello,0\r\n2,world,1\r\n3,again,1\r\n')
    const v = await versionDataset({ name: 'csv', path: csv, role: 'validation' })
    assert.equal(v.rows, 3)
    assert.deepEqual(v.columns, ['id', 'text', 'label'])
    const noTrailingNewline = write('b.csv', 'a,b\n1,2\n3,4')
    assert.equal((await versionDataset({ name: 'b', path: noTrailingNewline, role: 'test' })).rows, 2)
    const headerOnly = write('h.csv', 'a,b\n')
    const h = await versionDataset({ name: 'h', path: headerOnly, role: 'test' })
    assert.equal(h.rows, 0)
    assert.deepEqual(h.columns, ['a', 'b'])
    const tsv = write('t.tsv', 'x\ty\n1\t2\n')
    const t = await versionDataset({ name: 't', path: tsv, role: 'test' })
    assert.deepEqual([t.rows, t.columns], [1, ['x', 'y']])
  })

  test('CSV row count holds when the file is read in many chunks', async () => {
    const lines = ['id,value']
    for (let i = 0; i < 200_000; i++) lines.push(`${i},${i * 2}`)
    const file = write('many.csv', lines.join('\n') + '\n')
    const v = await versionDataset({ name: 'many', path: file, role: 'train' })
    assert.equal(v.rows, 200_000)
    assert.deepEqual(v.columns, ['id', 'value'])
  })

  test('JSONL: rows are lines, columns are the keys of the first record', async () => {
    const jsonl = write('data.jsonl', '{"prompt":"a","answer":"b","id":1}\n{"prompt":"c","answer":"d","id":2}\n')
    const v = await versionDataset({ name: 'j', path: jsonl, role: 'test' })
    assert.equal(v.rows, 2)
    assert.deepEqual(v.columns, ['prompt', 'answer', 'id'])
    const ndjson = write('data.ndjson', '{"a":1}\n{"a":2}\n{"a":3}')
    const n = await versionDataset({ name: 'n', path: ndjson, role: 'test' })
    assert.deepEqual([n.rows, n.columns], [3, ['a']])
    const notObjects = write('arr.jsonl', '[1,2]\n[3,4]\n')
    const a = await versionDataset({ name: 'a', path: notObjects, role: 'test' })
    assert.deepEqual([a.rows, a.columns], [2, []])
  })

  test('a byte order mark does not hide the columns of the first record', async () => {
    const jsonl = write('bom.jsonl', '\uFEFF{"prompt":"a","id":1}\n{"prompt":"b","id":2}\n')
    const j = await versionDataset({ name: 'j', path: jsonl, role: 'test' })
    assert.deepEqual([j.rows, j.columns], [2, ['prompt', 'id']])
    const csv = write('bom.csv', '\uFEFFid,label\r\n1,0\r\n')
    const c = await versionDataset({ name: 'c', path: csv, role: 'test' })
    assert.deepEqual([c.rows, c.columns], [1, ['id', 'label']])
  })

  test('quoted CSV header fields keep their commas and escaped quotes', async () => {
    const csv = write('quoted.csv', '"name, first","say ""hi""", age ,"  padded  ",plain\n1,2,3,4,5\n')
    const c = await versionDataset({ name: 'c', path: csv, role: 'test' })
    assert.deepEqual(c.columns, ['name, first', 'say "hi"', 'age', '  padded  ', 'plain'])
    assert.equal(c.rows, 1)
    const tsv = write('quoted.tsv', '"a\tb"\tc\n1\t2\n')
    assert.deepEqual((await versionDataset({ name: 't', path: tsv, role: 'test' })).columns, ['a\tb', 'c'])
    const empty = write('empty-fields.csv', 'a,,"",b\n')
    assert.deepEqual((await versionDataset({ name: 'e', path: empty, role: 'test' })).columns, ['a', '', '', 'b'])
  })

  test('a path that does not exist is ASSAY_DATASET_NOT_FOUND; bad names, roles and paths are refused', async () => {
    const missing = path.join(dir, 'missing.csv')
    const error = await rejectsWith(versionDataset({ name: 'm', path: missing, role: 'test' }), 'ASSAY_DATASET_NOT_FOUND')
    assert.equal((error as { details?: { path?: string } }).details?.path, missing)
    const dangling = path.join(dir, 'dangling')
    symlinkSync(path.join(dir, 'nowhere'), dangling)
    await rejectsWith(versionDataset({ name: 'm', path: dangling, role: 'test' }), 'ASSAY_DATASET_NOT_FOUND')
    write('ok.txt', 'x')
    await rejectsWith(versionDataset({ name: '', path: path.join(dir, 'ok.txt'), role: 'test' }), 'ASSAY_INVALID_KEY')
    await rejectsWith(versionDataset({ name: 'x', path: path.join(dir, 'ok.txt'), role: 'dev' as never }), 'ASSAY_INVALID_ARGUMENT')
    await rejectsWith(versionDataset({ name: 'x', path: '', role: 'test' }), 'ASSAY_INVALID_ARGUMENT')
    await rejectsWith(versionDataset(null as never), 'ASSAY_INVALID_ARGUMENT')
  })
})

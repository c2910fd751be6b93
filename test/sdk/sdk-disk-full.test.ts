/**
 * A full disk under the embedded store: the SDK gets ASSAY_STORE_FULL (a catalogue error, not a
 * raw SQLITE_FULL or ENOSPC) from artifact bytes, from a file copied in and from SQLite writes,
 * no half-written temporary file is left, and everything stored before reads back intact. The
 * store lives on a 6 MiB tmpfs (mounting needs root; the test is skipped without it).
 */
import assert from 'node:assert/strict'
import { readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { isAssayError } from '../../src/errors.js'
import { Assay } from '../../src/sdk/assay.js'
import { smallDisk } from '../small-disk.js'

const { base, disk, mounted, release } = smallDisk('assay-sdk-full-')

const isStoreFull = (error: unknown) => isAssayError(error, 'ASSAY_STORE_FULL') && /disk is full/.test(error.message)

/** Every file below `dir` with a `tmp` folder in its path inside `dir`. */
function temporaryFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((file) => path.dirname(file).split(path.sep).includes('tmp'))
}

describe('a full disk under the embedded SDK', { skip: mounted ? false : 'mounting a tmpfs needs root' }, () => {
  after(() => {
    release()
  })

  it('artifact bytes, files and params are ASSAY_STORE_FULL once the disk is full; earlier data intact', async () => {
    const store = path.join(disk, 'store')
    const assay = await Assay.open({ store })
    const run = await assay.startRun({ experiment: 'full', codeDir: base, params: { lr: 0.1 } })
    try {
    await run.logArtifact('first.bin', Buffer.alloc(512 * 1024, 7))
    await run.setTags({ kept: 'yes' })

    let refused: unknown
    for (let i = 0; i < 40 && refused === undefined; i++) {
      await run.logArtifact(`fill-${i}.bin`, Buffer.alloc(1024 * 1024, i + 1)).catch((error: unknown) => (refused = error))
    }
    assert.ok(refused !== undefined, 'the disk filled up')
    assert.ok(isStoreFull(refused), String(refused))
    assert.deepEqual(temporaryFiles(store), [], 'no half-written temporary file is left')

    // A file copied in (putFile) that cannot fit.
    const big = path.join(base, 'big.bin')
    writeFileSync(big, Buffer.alloc(8 * 1024 * 1024, 9))
    await assert.rejects(run.logArtifact('big.bin', big), isStoreFull)
    assert.deepEqual(temporaryFiles(store), [])

    // SQLite's own writes: params that cannot fit.
    const params = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`p${i}`, 'x'.repeat(60_000)]))
    await assert.rejects(run.logParams(params), isStoreFull)
    } finally {
      await run.end().catch(() => undefined)
      await assay.close()
    }
    const again = await Assay.open({ store })
    try {
      const stored = await again.store.getRun(run.id)
      assert.equal(stored?.params.lr, 0.1)
      assert.equal(stored?.tags.kept, 'yes')
      assert.equal(stored?.params.p0, undefined)
      assert.deepEqual(await again.getArtifact(run.id, 'first.bin'), Buffer.alloc(512 * 1024, 7))
    } finally {
      await again.close()
    }
  })
})

/**
 * Migration numbering on every backend. SQLite applies only the migrations above its one stored
 * number (user_version), so a migration numbered below the latest would never run on a store
 * already at the latest; PostgreSQL applies every missing version, but keeps the same order.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/postgres-migrations.js'
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/sqlite-migrations.js'

const BACKENDS = [
  { name: 'sqlite', migrations: SQLITE_MIGRATIONS },
  { name: 'postgres', migrations: POSTGRES_MIGRATIONS },
]

for (const { name, migrations } of BACKENDS) {
  test(`${name}: migration versions are whole numbers from 1, strictly increasing`, () => {
    const versions = migrations.map((m) => m.version)
    assert.ok(versions.length > 0)
    assert.equal(versions[0], 1)
    for (const [i, v] of versions.entries()) {
      assert.ok(Number.isInteger(v), `${v} is a whole number`)
      if (i > 0) assert.ok(v > (versions[i - 1] as number), `${name}: version ${v} follows ${versions[i - 1]}: a new migration goes above the latest, never between`)
    }
  })
}

test('every backend ends at the same version, so the next migration takes one number above it on both', () => {
  const latest = BACKENDS.map(({ migrations }) => migrations[migrations.length - 1]?.version)
  assert.equal(new Set(latest).size, 1, `latest versions: ${latest.join(', ')}`)
})

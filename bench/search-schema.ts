import { POSTGRES_MIGRATIONS } from '../src/store/postgres/postgres-migrations.js'

/**
 * The PostgreSQL schema bench/search.ts builds for `runs` runs and keeps, which bench/ui.ts and
 * bench/ui-groups.ts read. Named by schema version: opening a store migrates it, and an older
 * checkout then refuses the schema, so each version builds its own.
 */
export function searchBenchSchema(runs: number): string {
  return `assay_bench_search_${runs}_v${POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1].version}`
}

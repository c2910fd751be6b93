/**
 * A process under a CPU quota of its own (Linux cgroups, v1 `cpu` controller or v2 `cpu.max`).
 *
 * On a 2-core machine the client, the servers and PostgreSQL share both cores, so a second server
 * process cannot add capacity: the machine, not the server, is the bottleneck. Capping each server
 * process at a fraction of a core makes the server the bottleneck while the database keeps
 * headroom, which is what servers on hosts of their own look like; then "two servers against one"
 * measures whether the servers scale (no shared lock, no per-process state that serialises them).
 * Needs root (it writes under /sys/fs/cgroup).
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'

const V1 = '/sys/fs/cgroup/cpu'
const V2 = '/sys/fs/cgroup/unified'
const PERIOD_US = 100_000

function v2HasCpu(): boolean {
  const controllers = path.join(V2, 'cgroup.controllers')
  return existsSync(controllers) && readFileSync(controllers, 'utf8').split(/\s+/).includes('cpu')
}

/** Moves `pid` into a new cgroup `name` limited to `cpus` CPUs; the returned function removes the group once the process has exited. */
export function limitCpu(pid: number, cpus: number, name: string): () => void {
  if (!(cpus > 0)) throw new Error(`a CPU quota must be above 0, got ${cpus}`)
  const quota = String(Math.round(cpus * PERIOD_US))
  let dir: string
  if (existsSync(path.join(V1, 'cpu.cfs_quota_us'))) {
    dir = path.join(V1, name)
    mkdirSync(dir, { recursive: true })
    writeFileSync(path.join(dir, 'cpu.cfs_period_us'), String(PERIOD_US))
    writeFileSync(path.join(dir, 'cpu.cfs_quota_us'), quota)
  } else if (v2HasCpu()) {
    dir = path.join(V2, name)
    mkdirSync(dir, { recursive: true })
    writeFileSync(path.join(dir, 'cpu.max'), `${quota} ${PERIOD_US}`)
  } else {
    throw new Error('no cgroup cpu controller at /sys/fs/cgroup/cpu or /sys/fs/cgroup/unified: --server-cpu needs one (and root)')
  }
  writeFileSync(path.join(dir, 'cgroup.procs'), String(pid))
  return () => {
    try {
      rmdirSync(dir)
    } catch {
      // still holding a process: left for the next run's mkdir to reuse
    }
  }
}

/**
 * A 6 MiB tmpfs for tests of a full disk: `disk` is mounted (when `mounted`; mounting needs root)
 * inside a fresh temporary folder `base`; `release()` unmounts it and removes `base`.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface SmallDisk {
  base: string
  disk: string
  mounted: boolean
  release(): void
}

export function smallDisk(prefix: string): SmallDisk {
  const base = mkdtempSync(path.join(os.tmpdir(), prefix))
  const disk = path.join(base, 'disk')
  mkdirSync(disk)
  let mounted = false
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', disk], { stdio: 'ignore' })
    mounted = true
  } catch {
    // Not root (or no tmpfs): the caller skips its tests.
  }
  return {
    base,
    disk,
    mounted,
    release() {
      if (mounted) execFileSync('umount', [disk])
      rmSync(base, { recursive: true, force: true })
    },
  }
}

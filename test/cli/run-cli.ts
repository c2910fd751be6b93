import { PassThrough } from 'node:stream'
import { main } from '../../src/cli/main.js'

export interface CliResult {
  code: number
  out: string
  err: string
}

/** Run the CLI in this process with `args` after `assay`, capturing stdout and stderr. */
export async function runCli(...args: string[]): Promise<CliResult> {
  const out = new PassThrough()
  const err = new PassThrough()
  const outChunks: Buffer[] = []
  const errChunks: Buffer[] = []
  out.on('data', (c: Buffer) => outChunks.push(Buffer.from(c)))
  err.on('data', (c: Buffer) => errChunks.push(Buffer.from(c)))
  const code = await main(['node', 'assay', ...args], { out, err })
  return { code, out: Buffer.concat(outChunks).toString('utf8'), err: Buffer.concat(errChunks).toString('utf8') }
}

/** The same against one store. */
export function runCliOn(store: string, ...args: string[]): Promise<CliResult> {
  return runCli('--store', store, ...args)
}

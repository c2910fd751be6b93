import { createRequire } from 'node:module'

/** assay's version, read from package.json (one level above src/ and dist/ alike), once for everything that records or prints it. */
export const ASSAY_VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version

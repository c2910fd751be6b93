import type { EvalRecord } from '../../../src/index.js'

export function metricValue(i: number, salt?: number): number
export function evalRecord(i: number, salt?: number): EvalRecord
export function say(line: string): void
export function requireEnv(name: string): string

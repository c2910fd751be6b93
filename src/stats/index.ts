/**
 * assay/stats: pure statistics. Numbers in, plain JSON-serialisable result objects out; no I/O.
 * Every result names its method and every parameter used so it can be stored as evidence.
 */
export { createRandom, type RandomGenerator } from './random.js'
export type { Alternative, Sample } from './validate.js'
// Part A: description, intervals, bootstrap, paired tests, equivalence.
export { mean, variance, sd, standardError, median, quantile, iqm, trimmedMean } from './describe.js'
export {
  tInterval,
  wilsonInterval,
  clopperPearsonInterval,
  clusteredStandardError,
  type IntervalOptions,
  type TIntervalResult,
  type ProportionIntervalResult,
  type ClusteredStandardErrorResult,
} from './intervals.js'
export {
  bootstrapInterval,
  stratifiedBootstrapInterval,
  type BootstrapStatistic,
  type BootstrapMethod,
  type BootstrapOptions,
  type BootstrapIntervalResult,
  type StratifiedBootstrapOptions,
  type StratifiedBootstrapResult,
} from './bootstrap.js'
export {
  pairedTTest,
  signTest,
  mcnemar,
  type PairedTTestOptions,
  type PairedTTestResult,
  type SignTestResult,
  type McNemarOptions,
  type McNemarResult,
} from './paired.js'
export {
  wilcoxonSignedRank,
  type WilcoxonOptions,
  type WilcoxonResult,
  type WilcoxonMethod,
  type ZeroMethod,
} from './wilcoxon-signed-rank.js'
export {
  pairedPermutationTest,
  pairedBootstrap,
  type PairedPermutationOptions,
  type PairedPermutationResult,
  type PairedBootstrapOptions,
  type PairedBootstrapResult,
} from './paired-resampling.js'
export {
  nonInferiority,
  tost,
  type NonInferiorityOptions,
  type NonInferiorityResult,
  type TostOptions,
  type TostResult,
} from './equivalence.js'

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
// Part B: two-sample tests, stochastic dominance, ranks across datasets, multiplicity, effect sizes, planning.
export { welchTTest, studentTTest, type TwoSampleTTestOptions, type TwoSampleTTestResult } from './two-sample.js'
export { mannWhitneyU, type MannWhitneyOptions, type MannWhitneyResult } from './mann-whitney.js'
export { permutationTest, type PermutationTestOptions, type PermutationTestResult, type TwoSampleStatistic } from './permutation.js'
export {
  probabilityOfImprovement,
  almostStochasticOrder,
  type ProbabilityOfImprovementOptions,
  type ProbabilityOfImprovementResult,
  type AlmostStochasticOrderOptions,
  type AlmostStochasticOrderResult,
} from './stochastic-dominance.js'
export {
  averageRanks,
  friedman,
  nemenyiCriticalDifference,
  type ScoreMatrix,
  type AverageRanksOptions,
  type AverageRanksResult,
  type FriedmanResult,
  type NemenyiResult,
} from './ranks.js'
export { adjustPValues, type PValueAdjustment, type AdjustedPValues } from './multiplicity.js'
export {
  cohensD,
  hedgesG,
  cliffsDelta,
  type CohensDOptions,
  type StandardizedMeanDifference,
  type HedgesGResult,
  type CliffsDeltaResult,
} from './effect-size.js'
export {
  sampleSizePaired,
  sampleSizeProportions,
  minimumDetectableEffect,
  seedsNeeded,
  expectedMaxPerformance,
  type DifferenceSpread,
  type SampleSizePairedOptions,
  type SampleSizePairedResult,
  type SampleSizeProportionsOptions,
  type SampleSizeProportionsResult,
  type SampleSizeResult,
  type MinimumDetectableEffectOptions,
  type MinimumDetectableEffectResult,
  type SeedsNeededOptions,
  type SeedsNeededResult,
  type ExpectedMaxPerformanceOptions,
  type ExpectedMaxPerformanceResult,
} from './planning.js'

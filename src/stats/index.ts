/**
 * assay/stats: pure statistics. Numbers in, plain JSON-serialisable result objects out; no I/O.
 * Every result names its method and every parameter used so it can be stored as evidence.
 */
export { createRandom, type RandomGenerator } from './random.js'
export type { Alternative, Sample } from './validate.js'
export { type IntervalOptions, type TIntervalResult, type ProportionIntervalResult, type ClusteredStandardErrorResult } from './intervals.js'
export { type BootstrapStatistic, type BootstrapMethod, type BootstrapOptions, type BootstrapIntervalResult, type StratifiedBootstrapOptions, type StratifiedBootstrapResult } from './bootstrap.js'
export { type PairedTTestOptions, type PairedTTestResult, type SignTestResult, type McNemarOptions, type McNemarResult } from './paired.js'
export { type WilcoxonOptions, type WilcoxonResult, type WilcoxonMethod, type ZeroMethod } from './wilcoxon-signed-rank.js'
export { type PairedPermutationOptions, type PairedPermutationResult, type PairedBootstrapOptions, type PairedBootstrapResult } from './paired-resampling.js'
export { type NonInferiorityOptions, type NonInferiorityResult, type TostOptions, type TostResult } from './equivalence.js'
export { type TwoSampleTTestOptions, type TwoSampleTTestResult } from './two-sample.js'
export { type MannWhitneyOptions, type MannWhitneyResult } from './mann-whitney.js'
export { type PermutationTestOptions, type PermutationTestResult, type TwoSampleStatistic } from './permutation.js'
export { type ProbabilityOfImprovementOptions, type ProbabilityOfImprovementResult, type AlmostStochasticOrderOptions, type AlmostStochasticOrderResult } from './stochastic-dominance.js'
export { type ScoreMatrix, type AverageRanksOptions, type AverageRanksResult, type FriedmanResult, type NemenyiResult } from './ranks.js'
export { type PValueAdjustment, type AdjustedPValues } from './multiplicity.js'
export { MIN_CLUSTERS, MIN_EXAMPLES, constantTolerance, type PairedArms, type PairedDecisionOptions, type PairedDecisionResult, type PairedDecisionWarning, type PairedDecisionWarningCode } from './paired-decision.js'
export { type KsMethod, type KsTwoSampleOptions, type KsTwoSampleResult, type ChiSquareOptions, type ChiSquareResult, type TwoProportionOptions, type TwoProportionZTestResult, type ClusteredTwoProportionResult, type PsiOptions, type PsiResult, type JensenShannonResult } from './drift.js'
export { type QuantileIntervalOptions, type QuantileIntervalResult } from './quantile-interval.js'
export { type CohensDOptions, type StandardizedMeanDifference, type HedgesGResult, type CliffsDeltaResult } from './effect-size.js'
export { type DifferenceSpread, type SampleSizePairedOptions, type SampleSizePairedResult, type SampleSizeProportionsOptions, type SampleSizeProportionsResult, type SampleSizeResult, type MinimumDetectableEffectOptions, type MinimumDetectableEffectResult, type SeedsNeededOptions, type SeedsNeededResult, type ExpectedMaxPerformanceOptions, type ExpectedMaxPerformanceResult } from './planning.js'

import { mean as meanUnguarded, variance as varianceUnguarded, sd as sdUnguarded, standardError as standardErrorUnguarded, median as medianUnguarded, quantile as quantileUnguarded, iqm as iqmUnguarded, trimmedMean as trimmedMeanUnguarded } from './describe.js'
import { tInterval as tIntervalUnguarded, wilsonInterval as wilsonIntervalUnguarded, clopperPearsonInterval as clopperPearsonIntervalUnguarded, clusteredStandardError as clusteredStandardErrorUnguarded } from './intervals.js'
import { bootstrapInterval as bootstrapIntervalUnguarded, stratifiedBootstrapInterval as stratifiedBootstrapIntervalUnguarded } from './bootstrap.js'
import { pairedTTest as pairedTTestUnguarded, signTest as signTestUnguarded, mcnemar as mcnemarUnguarded } from './paired.js'
import { wilcoxonSignedRank as wilcoxonSignedRankUnguarded } from './wilcoxon-signed-rank.js'
import { pairedPermutationTest as pairedPermutationTestUnguarded, pairedBootstrap as pairedBootstrapUnguarded } from './paired-resampling.js'
import { nonInferiority as nonInferiorityUnguarded, tost as tostUnguarded } from './equivalence.js'
import { welchTTest as welchTTestUnguarded, studentTTest as studentTTestUnguarded } from './two-sample.js'
import { mannWhitneyU as mannWhitneyUUnguarded } from './mann-whitney.js'
import { permutationTest as permutationTestUnguarded } from './permutation.js'
import { probabilityOfImprovement as probabilityOfImprovementUnguarded, almostStochasticOrder as almostStochasticOrderUnguarded } from './stochastic-dominance.js'
import { averageRanks as averageRanksUnguarded, friedman as friedmanUnguarded, nemenyiCriticalDifference as nemenyiCriticalDifferenceUnguarded } from './ranks.js'
import { adjustPValues as adjustPValuesUnguarded } from './multiplicity.js'
import { cohensD as cohensDUnguarded, hedgesG as hedgesGUnguarded, cliffsDelta as cliffsDeltaUnguarded } from './effect-size.js'
import { sampleSizePaired as sampleSizePairedUnguarded, sampleSizeProportions as sampleSizeProportionsUnguarded, minimumDetectableEffect as minimumDetectableEffectUnguarded, seedsNeeded as seedsNeededUnguarded, expectedMaxPerformance as expectedMaxPerformanceUnguarded } from './planning.js'
import { pairedDecision as pairedDecisionUnguarded, pairedDecisions as pairedDecisionsUnguarded, type PairedArms, type PairedDecisionOptions, type PairedDecisionResult } from './paired-decision.js'
import { checkResult, guarded } from './result-guard.js'
import { ksTwoSample as ksTwoSampleUnguarded, chiSquareTest as chiSquareTestUnguarded, twoProportionZTest as twoProportionZTestUnguarded, clusteredTwoProportionTest as clusteredTwoProportionTestUnguarded, binCounts as binCountsUnguarded, populationStabilityIndex as populationStabilityIndexUnguarded, populationStabilityIndexFromCounts as populationStabilityIndexFromCountsUnguarded, jensenShannon as jensenShannonUnguarded } from './drift.js'
import { quantileInterval as quantileIntervalUnguarded } from './quantile-interval.js'

// Every public function goes through the one result guard (result-guard.ts): finite inputs whose
// result overflows double precision throw ASSAY_STATS_DEGENERATE_INPUT instead of returning NaN or
// an infinity. Part A: description, intervals, bootstrap, paired tests, equivalence. Part B: two-sample
// tests, stochastic dominance, ranks across datasets, multiplicity, effect sizes, planning.
export const mean = guarded('mean', meanUnguarded)
export const variance = guarded('variance', varianceUnguarded)
export const sd = guarded('sd', sdUnguarded)
export const standardError = guarded('standardError', standardErrorUnguarded)
export const median = guarded('median', medianUnguarded)
export const quantile = guarded('quantile', quantileUnguarded)
export const iqm = guarded('iqm', iqmUnguarded)
export const trimmedMean = guarded('trimmedMean', trimmedMeanUnguarded)
export const tInterval = guarded('tInterval', tIntervalUnguarded)
export const wilsonInterval = guarded('wilsonInterval', wilsonIntervalUnguarded)
export const clopperPearsonInterval = guarded('clopperPearsonInterval', clopperPearsonIntervalUnguarded)
export const clusteredStandardError = guarded('clusteredStandardError', clusteredStandardErrorUnguarded)
export const bootstrapInterval = guarded('bootstrapInterval', bootstrapIntervalUnguarded)
export const stratifiedBootstrapInterval = guarded('stratifiedBootstrapInterval', stratifiedBootstrapIntervalUnguarded)
export const pairedTTest = guarded('pairedTTest', pairedTTestUnguarded)
export const signTest = guarded('signTest', signTestUnguarded)
export const mcnemar = guarded('mcnemar', mcnemarUnguarded)
export const wilcoxonSignedRank = guarded('wilcoxonSignedRank', wilcoxonSignedRankUnguarded)
export const pairedPermutationTest = guarded('pairedPermutationTest', pairedPermutationTestUnguarded)
export const pairedBootstrap = guarded('pairedBootstrap', pairedBootstrapUnguarded)
export const nonInferiority = guarded('nonInferiority', nonInferiorityUnguarded)
export const tost = guarded('tost', tostUnguarded)
export const welchTTest = guarded('welchTTest', welchTTestUnguarded)
export const studentTTest = guarded('studentTTest', studentTTestUnguarded)
export const mannWhitneyU = guarded('mannWhitneyU', mannWhitneyUUnguarded)
export const permutationTest = guarded('permutationTest', permutationTestUnguarded)
export const probabilityOfImprovement = guarded('probabilityOfImprovement', probabilityOfImprovementUnguarded)
export const almostStochasticOrder = guarded('almostStochasticOrder', almostStochasticOrderUnguarded)
export const averageRanks = guarded('averageRanks', averageRanksUnguarded)
export const friedman = guarded('friedman', friedmanUnguarded, ['imanDavenport.statistic'])
export const nemenyiCriticalDifference = guarded('nemenyiCriticalDifference', nemenyiCriticalDifferenceUnguarded)
export const adjustPValues = guarded('adjustPValues', adjustPValuesUnguarded)
export const cohensD = guarded('cohensD', cohensDUnguarded)
export const hedgesG = guarded('hedgesG', hedgesGUnguarded)
export const cliffsDelta = guarded('cliffsDelta', cliffsDeltaUnguarded)
export const sampleSizePaired = guarded('sampleSizePaired', sampleSizePairedUnguarded)
export const sampleSizeProportions = guarded('sampleSizeProportions', sampleSizeProportionsUnguarded)
export const minimumDetectableEffect = guarded('minimumDetectableEffect', minimumDetectableEffectUnguarded)
export const seedsNeeded = guarded('seedsNeeded', seedsNeededUnguarded)
export const expectedMaxPerformance = guarded('expectedMaxPerformance', expectedMaxPerformanceUnguarded)
// The one paired decision (compare, leaderboard, gates): constant data may give an unbounded interval of the median.
export const pairedDecision = guarded('pairedDecision', pairedDecisionUnguarded, ['ci[0]', 'ci[1]'])
/** pairedDecision for many pairs under one set of options (many candidates against one baseline), each result guarded as pairedDecision's. */
export function pairedDecisions(pairs: readonly PairedArms[], options?: Omit<PairedDecisionOptions, 'clusters'>): PairedDecisionResult[] {
  const openEnded = new Set(['ci[0]', 'ci[1]'])
  return pairedDecisionsUnguarded(pairs, options).map((r) => checkResult('pairedDecisions', r, openEnded))
}

// Production monitoring: distribution shift between a reference and a current window (drift.ts), and
// the order-statistic interval of a quantile (p95 latency over windows of millions of requests).
export const ksTwoSample = guarded('ksTwoSample', ksTwoSampleUnguarded)
export const chiSquareTest = guarded('chiSquareTest', chiSquareTestUnguarded)
export const twoProportionZTest = guarded('twoProportionZTest', twoProportionZTestUnguarded)
export const clusteredTwoProportionTest = guarded('clusteredTwoProportionTest', clusteredTwoProportionTestUnguarded)
export const binCounts = guarded('binCounts', binCountsUnguarded)
export const populationStabilityIndex = guarded('populationStabilityIndex', populationStabilityIndexUnguarded)
export const populationStabilityIndexFromCounts = guarded('populationStabilityIndexFromCounts', populationStabilityIndexFromCountsUnguarded)
export const jensenShannon = guarded('jensenShannon', jensenShannonUnguarded)
export const quantileInterval = guarded('quantileInterval', quantileIntervalUnguarded)

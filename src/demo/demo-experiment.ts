import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Comparison } from '../compare/comparison-types.js'
import type { Assay } from '../sdk/assay.js'
import { createRandom } from '../stats/random.js'
import { evaluate, predictProbability, train, type Dataset, type TrainingConfig } from './logistic-regression.js'
import { makeClassificationData, toCsv, withSquaredFeatures } from './synthetic-data.js'

export const DEMO_EXPERIMENT = 'demo-logistic-regression'
/** The data never changes between demo runs, so its content hash is the same every time. */
const DATA_SEED = 20261126
const FEATURES = 12
const TRUE_WEIGHTS = [1.6, -1.2, 0.9, 0.7, -0.5, 0.3]

/** The candidate adds squared features, which the data's curved effect rewards by a few points. */
export const DEMO_CONFIGS: Record<string, TrainingConfig & { squaredFeatures: boolean }> = {
  baseline: { learningRate: 0.1, epochs: 10, l2: 0.001, batchSize: 32, squaredFeatures: false },
  candidate: { learningRate: 0.1, epochs: 10, l2: 0.001, batchSize: 32, squaredFeatures: true },
}

export interface DemoRunResult {
  config: string
  seed: number
  runId: string
  accuracy: number
  logLoss: number
}

export interface DemoResult {
  experiment: string
  dataDir: string
  runs: DemoRunResult[]
}

export interface DemoComparisons {
  /** One candidate run against one baseline run (the first seed of each), per example on the validation set. */
  paired: Comparison
  /** The candidate's seeds against the baseline's seeds (two-level bootstrap over seeds and examples). */
  groups: Comparison
}

/** Compare the demo's two configurations: candidate (A) against baseline (B) on per-example correctness. */
export async function compareDemo(assay: Assay, result: DemoResult): Promise<DemoComparisons> {
  const candidate = result.runs.filter((r) => r.config === 'candidate').map((r) => r.runId)
  const baseline = result.runs.filter((r) => r.config === 'baseline').map((r) => r.runId)
  const paired = await assay.compare(candidate[0] as string, baseline[0] as string, { metric: 'correct', dataset: 'validation' })
  const groups = await assay.compare(candidate.join(','), baseline.join(','), { metric: 'correct', dataset: 'validation' })
  return { paired, groups }
}

export type DemoProgress = (message: string) => void

/** Write the demo's train and validation sets (deterministic) and return them. */
function prepareData(dataDir: string): { train: Dataset; validation: Dataset & { clusters: string[] }; trainPath: string; validationPath: string } {
  const random = createRandom(DATA_SEED)
  const options = { features: FEATURES, clusterSize: 5, trueWeights: TRUE_WEIGHTS, curvature: 0.6 }
  const trainData = makeClassificationData(random, 4000, options)
  const validation = makeClassificationData(random, 2000, options)
  mkdirSync(dataDir, { recursive: true })
  const header = [...Array.from({ length: FEATURES }, (_, j) => `x${j}`), 'label']
  const trainPath = path.join(dataDir, 'train.csv')
  const validationPath = path.join(dataDir, 'validation.csv')
  writeFileSync(trainPath, toCsv(trainData, header))
  writeFileSync(validationPath, toCsv(validation, header))
  return { train: trainData, validation, trainPath, validationPath }
}

/**
 * The demo experiment: two configurations of a logistic regression, each under several seeds,
 * with every part of the run record logged, per-example eval records included.
 */
export async function runDemo(assay: Assay, options: { dataDir: string; seeds: number[]; onProgress?: DemoProgress }): Promise<DemoResult> {
  const progress = options.onProgress ?? (() => undefined)
  const data = prepareData(options.dataDir)
  const runs: DemoRunResult[] = []
  const total = Object.keys(DEMO_CONFIGS).length * options.seeds.length
  for (const [configName, config] of Object.entries(DEMO_CONFIGS)) {
    for (const seed of options.seeds) {
      const run = await assay.startRun({
        experiment: DEMO_EXPERIMENT,
        name: `${configName}-seed${seed}`,
        params: { model: 'logistic-regression', config: configName, ...config },
        seed,
        datasets: [
          { name: 'train', path: data.trainPath, role: 'train' },
          { name: 'validation', path: data.validationPath, role: 'validation' },
        ],
        tags: { demo: 'true', config: configName },
      })
      try {
        const trainData = config.squaredFeatures ? withSquaredFeatures(data.train) : data.train
        const validation = config.squaredFeatures ? withSquaredFeatures(data.validation) : data.validation
        const random = createRandom(run.seed)
        const curve: Record<string, number>[] = []
        const weights = train(trainData, config, random, (epoch, w) => {
          const trainMetrics = evaluate(w, trainData)
          const validationMetrics = evaluate(w, validation)
          curve.push({ 'train/loss': trainMetrics.logLoss, 'train/accuracy': trainMetrics.accuracy, 'validation/loss': validationMetrics.logLoss, 'validation/accuracy': validationMetrics.accuracy, epoch })
        })
        for (const [step, point] of curve.entries()) await run.log(point, { step })
        const evalRecords = []
        for (let i = 0; i < validation.labels.length; i++) {
          const started = process.hrtime.bigint()
          const p = predictProbability(weights, validation.features[i])
          const latencyMs = Number(process.hrtime.bigint() - started) / 1e6
          const y = validation.labels[i]
          evalRecords.push({
            id: `validation-${i}`,
            cluster: validation.clusters[i],
            scores: { correct: (p >= 0.5 ? 1 : 0) === y ? 1 : 0, logLoss: -Math.log(Math.max(y === 1 ? p : 1 - p, 1e-12)) },
            latencyMs,
            outputHash: createHash('sha256').update(p.toFixed(12)).digest('hex').slice(0, 16),
          })
        }
        await run.logEval({ dataset: 'validation', records: evalRecords })
        await run.logArtifact('model/weights.json', Buffer.from(JSON.stringify({ bias: weights[0], weights: Array.from(weights.subarray(1)) })))
        const final = evaluate(weights, validation)
        await run.end('finished')
        runs.push({ config: configName, seed: run.seed, runId: run.id, accuracy: final.accuracy, logLoss: final.logLoss })
        progress(`[${runs.length}/${total}] ${configName} seed ${seed}: validation accuracy ${final.accuracy.toFixed(4)} (run ${run.id.slice(0, 8)})`)
      } catch (error) {
        await run.end('failed').catch(() => undefined)
        throw error
      }
    }
  }
  return { experiment: DEMO_EXPERIMENT, dataDir: options.dataDir, runs }
}

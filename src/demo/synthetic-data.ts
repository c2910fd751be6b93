import type { RandomGenerator } from '../stats/random.js'
import type { Dataset } from './logistic-regression.js'

export function standardNormal(random: RandomGenerator): number {
  // Box–Muller; 1 - u keeps the logarithm finite.
  const u = 1 - random.nextFloat()
  const v = random.nextFloat()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}

/**
 * A binary classification task with a few informative features, some noise features and label
 * noise. Examples come in clusters of `clusterSize` that share a latent offset, like questions
 * that share a passage, so clustered standard errors have something to do.
 */
export function makeClassificationData(random: RandomGenerator, n: number, options: { features: number; clusterSize: number; trueWeights: number[]; curvature: number }): Dataset & { clusters: string[] } {
  const features: Float64Array[] = []
  const labels = new Uint8Array(n)
  const clusters: string[] = []
  let offset = 0
  for (let i = 0; i < n; i++) {
    if (i % options.clusterSize === 0) offset = standardNormal(random) * 0.8
    const x = new Float64Array(options.features)
    for (let j = 0; j < options.features; j++) x[j] = standardNormal(random) + (j === 0 ? offset : 0)
    let z = 0
    for (let j = 0; j < options.trueWeights.length; j++) z += options.trueWeights[j] * x[j]
    // A curved effect that a linear model on raw features cannot capture, but one on squares can.
    z += options.curvature * (x[1] * x[1] - 1)
    const p = 1 / (1 + Math.exp(-z))
    labels[i] = random.nextFloat() < p ? 1 : 0
    features.push(x)
    clusters.push(`c${Math.floor(i / options.clusterSize)}`)
  }
  return { features, labels, clusters }
}

export function toCsv(data: Dataset, header: string[]): string {
  const lines = [header.join(',')]
  for (let i = 0; i < data.labels.length; i++) lines.push([...Array.from(data.features[i], (v) => v.toFixed(6)), String(data.labels[i])].join(','))
  return `${lines.join('\n')}\n`
}

/** Append the square of every feature: the candidate configuration's feature map. */
export function withSquaredFeatures<T extends Dataset>(data: T): T {
  return {
    ...data,
    features: data.features.map((x) => {
      const out = new Float64Array(x.length * 2)
      out.set(x)
      for (let j = 0; j < x.length; j++) out[x.length + j] = x[j] * x[j]
      return out
    }),
  }
}

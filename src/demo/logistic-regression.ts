import type { RandomGenerator } from '../stats/random.js'

/** A plain logistic regression trained by minibatch SGD with L2 regularisation: small and real. */
export interface TrainingConfig {
  learningRate: number
  epochs: number
  l2: number
  batchSize: number
}

export interface Dataset {
  features: Float64Array[]
  labels: Uint8Array
}

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z))
}

export function predictProbability(weights: Float64Array, x: Float64Array): number {
  let z = weights[0]
  for (let j = 0; j < x.length; j++) z += weights[j + 1] * x[j]
  return sigmoid(z)
}

/** Mean log loss and accuracy at threshold 0.5. */
export function evaluate(weights: Float64Array, data: Dataset): { logLoss: number; accuracy: number } {
  let loss = 0
  let correct = 0
  for (let i = 0; i < data.labels.length; i++) {
    const p = predictProbability(weights, data.features[i])
    const y = data.labels[i]
    loss -= y === 1 ? Math.log(Math.max(p, 1e-12)) : Math.log(Math.max(1 - p, 1e-12))
    if ((p >= 0.5 ? 1 : 0) === y) correct++
  }
  return { logLoss: loss / data.labels.length, accuracy: correct / data.labels.length }
}

/** Train; the generator decides the initial weights and the shuffling, so the seed matters. */
export function train(
  data: Dataset,
  config: TrainingConfig,
  random: RandomGenerator,
  onEpoch: (epoch: number, weights: Float64Array) => void,
): Float64Array {
  const dims = data.features[0].length
  const weights = new Float64Array(dims + 1)
  for (let j = 0; j < weights.length; j++) weights[j] = (random.nextFloat() - 0.5) * 0.2
  const order = Array.from({ length: data.labels.length }, (_, i) => i)
  const gradient = new Float64Array(dims + 1)
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = random.nextInt(i + 1)
      ;[order[i], order[j]] = [order[j], order[i]]
    }
    for (let start = 0; start < order.length; start += config.batchSize) {
      const end = Math.min(order.length, start + config.batchSize)
      gradient.fill(0)
      for (let k = start; k < end; k++) {
        const x = data.features[order[k]]
        const error = predictProbability(weights, x) - data.labels[order[k]]
        gradient[0] += error
        for (let j = 0; j < dims; j++) gradient[j + 1] += error * x[j]
      }
      const scale = config.learningRate / (end - start)
      weights[0] -= scale * gradient[0]
      for (let j = 1; j <= dims; j++) weights[j] -= scale * gradient[j] + config.learningRate * config.l2 * weights[j]
    }
    onEpoch(epoch, weights)
  }
  return weights
}

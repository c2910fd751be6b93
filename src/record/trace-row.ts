/**
 * One production trace as the monitor sees it: plain values, no store types. The store turns stored
 * traces (and their late feedback) into these rows (Store.traceRowsPage); tests and simulations build them directly.
 */
export interface TraceRow {
  traceId?: string
  /** Event time, milliseconds since the epoch. */
  time: number
  latencyMs?: number
  inputTokens?: number
  outputTokens?: number
  costUsd?: number
  /** Feedback, evaluator and guardrail outcome scores by name. */
  scores?: Record<string, number>
  /** What the guardrail did ('none', 'allow', 'block', 'redact', ...); whether it acted is production.ts guardrailTriggered's rule alone (absent: it did not). */
  guardrailAction?: string
  /** Input features by name: numbers, or category strings. */
  features?: Record<string, number | string>
  /** Names of the attributes the trace carried (for the malformed check's required attributes). */
  attributes?: readonly string[]
  /** Conversation id: traces of one conversation are one cluster. */
  conversationId?: string
  /** The input's id when the same inputs are replayed to two deployments (a paired canary). */
  inputId?: string
  modelVersion?: string
  promptVersion?: string
}


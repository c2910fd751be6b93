/**
 * At most `limit` holders at once; the others wait in arrival order. acquire() resolves to a
 * release function that may be called more than once (the first call counts).
 */
export class ConcurrencyLimit {
  private active = 0
  private readonly waiting: (() => void)[] = []

  constructor(readonly limit: number) {}

  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.active++
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.waiting.shift()
      // The slot passes straight to the next waiter, so the count never dips below the load.
      if (next !== undefined) next()
      else this.active--
    }
  }
}

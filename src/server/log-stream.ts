/**
 * The request log's destination for `assay server`: the lines written in one turn of the event
 * loop go out as one write. Writes to a pipe or file are synchronous in Node, one system call per
 * line, and under load a server answers many requests per turn; profiling the batch path showed
 * those calls (writev) as the largest single cost of the process (bench/results/ingest-scaling.md).
 * Lines wait at most until the loop's check phase, and are written synchronously on exit, so a
 * crash loses none that were logged before it.
 */
export class CoalescingLog {
  private pending: string[] = []
  private scheduled = false

  constructor(private readonly target: { write(text: string): unknown }) {
    process.on('exit', () => this.flush())
  }

  /** pino's destination interface: one serialised line (with its newline) per call. */
  write(line: string): void {
    this.pending.push(line)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.flush())
    }
  }

  flush(): void {
    this.scheduled = false
    if (this.pending.length === 0) return
    const text = this.pending.length === 1 ? this.pending[0] : this.pending.join('')
    this.pending = []
    this.target.write(text)
  }
}

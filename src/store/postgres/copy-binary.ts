/**
 * `COPY (SELECT …) TO STDOUT (FORMAT binary)` decoded as it streams, a tuple at a time, without a
 * row object: each tuple's fields are handed over as offsets and lengths into the chunk that holds
 * them (length -1: NULL), and the caller reads the values it wants (float8 as readDoubleBE, text
 * as UTF-8). The format (PostgreSQL's "Binary Format" of COPY): an 11-byte signature, a 32-bit
 * flags word, a 32-bit header-extension length and that many bytes; then per tuple a 16-bit field
 * count and per field a 32-bit length and that many bytes; a field count of -1 ends the data. All
 * integers are big-endian.
 */

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')
/** Flags bit 16: each tuple carries an OID (COPY … WITH OIDS, gone since PostgreSQL 12). */
const HAS_OIDS = 1 << 16

export type CopyTuple = (buffer: Buffer, offsets: Int32Array, lengths: Int32Array) => void

export class CopyBinaryDecoder {
  private pending: Buffer | null = null
  private header = false
  private ended = false
  private readonly offsets: Int32Array
  private readonly lengths: Int32Array
  tuples = 0

  constructor(
    private readonly fieldCount: number,
    private readonly onTuple: CopyTuple,
  ) {
    this.offsets = new Int32Array(fieldCount)
    this.lengths = new Int32Array(fieldCount)
  }

  /** The next bytes of the stream: every tuple they complete is handed to onTuple. */
  push(chunk: Buffer): void {
    if (this.ended) {
      if (chunk.length > 0) throw new Error('COPY binary data continues past its trailer')
      return
    }
    const buffer = this.pending === null ? chunk : Buffer.concat([this.pending, chunk])
    let pos = 0
    if (!this.header) {
      if (buffer.length < 19) {
        this.pending = buffer
        return
      }
      if (!buffer.subarray(0, 11).equals(SIGNATURE)) throw new Error('not COPY binary data: the signature is missing')
      if ((buffer.readInt32BE(11) & HAS_OIDS) !== 0) throw new Error('COPY binary data with OIDs is not read')
      const extension = buffer.readInt32BE(15)
      if (buffer.length < 19 + extension) {
        this.pending = buffer
        return
      }
      pos = 19 + extension
      this.header = true
    }
    const { offsets, lengths, fieldCount } = this
    const size = buffer.length
    for (;;) {
      if (size - pos < 2) break
      const count = buffer.readInt16BE(pos)
      if (count === -1) {
        this.ended = true
        pos += 2
        break
      }
      if (count !== fieldCount) throw new Error(`COPY binary tuple has ${count} fields, expected ${fieldCount}`)
      let p = pos + 2
      let complete = true
      for (let c = 0; c < count; c++) {
        if (size - p < 4) {
          complete = false
          break
        }
        const length = buffer.readInt32BE(p)
        p += 4
        offsets[c] = p
        lengths[c] = length
        if (length > 0) {
          if (size - p < length) {
            complete = false
            break
          }
          p += length
        }
      }
      if (!complete) break
      this.onTuple(buffer, offsets, lengths)
      this.tuples++
      pos = p
    }
    if (this.ended && pos < size) throw new Error('COPY binary data continues past its trailer')
    this.pending = pos < size ? buffer.subarray(pos) : null
  }

  /** The stream ended: it must have ended with the trailer, on a tuple boundary. */
  end(): void {
    if (!this.ended || this.pending !== null) throw new Error('COPY binary data ended before its trailer')
  }
}

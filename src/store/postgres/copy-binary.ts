/**
 * `COPY (SELECT …) TO STDOUT (FORMAT binary)` decoded as it streams, a tuple at a time, without a
 * row object: each tuple's fields are handed over as offsets and lengths into the chunk that holds
 * them (length -1: NULL), and the caller reads the values it wants (float8 as readDoubleBE, text
 * as UTF-8). The format (PostgreSQL's "Binary Format" of COPY): an 11-byte signature, a 32-bit
 * flags word, a 32-bit header-extension length and that many bytes; then per tuple a 16-bit field
 * count and per field a 32-bit length and that many bytes; a field count of -1 ends the data. All
 * integers are big-endian.
 *
 * The decoder verifies everything its caller relies on, against the fields the caller declares
 * (the types its SELECT casts to, and which may be NULL): the signature, no critical flag, the
 * field count of every tuple, each field's length (8 bytes for float8 and int8, 4 for int4, 2 for
 * int2, 1 for bool, any for text), NULL only where declared, no byte read past what arrived, and
 * the trailer with nothing after it. Anything else is ASSAY_STORE_MALFORMED_RESPONSE before the
 * tuple reaches the caller, not a value read from the wrong bytes.
 */
import { AssayError } from '../../errors.js'

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')
/** Flags bits 16-31 mark format changes a reader must not ignore (bit 16: each tuple carries an OID, COPY … WITH OIDS, gone since PostgreSQL 12). */
const CRITICAL_FLAGS = 0xffff0000
const HEADER_BYTES = SIGNATURE.length + 8

/** The binary types the decoder knows, with their byte length (ANY_LENGTH: text, as UTF-8; 2^31, which no 32-bit length equals). */
const ANY_LENGTH = 2 ** 31
const TYPE_LENGTHS = { float8: 8, int8: 8, int4: 4, int2: 2, bool: 1, text: ANY_LENGTH } as const

export type CopyFieldType = keyof typeof TYPE_LENGTHS

/** A column of the COPY as its SELECT declares it. */
export interface CopyField {
  /** For messages. */
  name: string
  type: CopyFieldType
  /** Whether the column may be NULL (length -1). */
  nullable: boolean
}

export type CopyTuple = (buffer: Buffer, offsets: Int32Array, lengths: Int32Array) => void

function malformed(what: string, details: Record<string, unknown> = {}): AssayError {
  return new AssayError('ASSAY_STORE_MALFORMED_RESPONSE', `PostgreSQL's binary COPY is not what the read asked for: ${what}`, details)
}

export class CopyBinaryDecoder {
  private pending: Buffer | null = null
  private header = false
  private ended = false
  private readonly offsets: Int32Array
  private readonly lengths: Int32Array
  /** Per field its byte length, ANY_LENGTH for any. */
  private readonly sizes: Float64Array
  private readonly nullable: Uint8Array
  tuples = 0

  constructor(
    private readonly fields: readonly CopyField[],
    private readonly onTuple: CopyTuple,
  ) {
    this.offsets = new Int32Array(fields.length)
    this.lengths = new Int32Array(fields.length)
    this.sizes = Float64Array.from(fields, (f) => TYPE_LENGTHS[f.type])
    this.nullable = Uint8Array.from(fields, (f) => (f.nullable ? 1 : 0))
  }

  /** The next bytes of the stream: every tuple they complete is handed to onTuple. */
  push(chunk: Buffer): void {
    if (this.ended) {
      if (chunk.length > 0) throw malformed('data continues past its trailer')
      return
    }
    const buffer = this.pending === null ? chunk : Buffer.concat([this.pending, chunk])
    let pos = 0
    if (!this.header) {
      const seen = Math.min(buffer.length, SIGNATURE.length)
      if (!buffer.subarray(0, seen).equals(SIGNATURE.subarray(0, seen))) throw malformed('the signature is missing')
      if (buffer.length < HEADER_BYTES) {
        this.pending = buffer
        return
      }
      const flags = buffer.readUInt32BE(SIGNATURE.length)
      if ((flags & CRITICAL_FLAGS) !== 0) throw malformed(`the header has flags ${flags.toString(16)} (bits 16-31 are not read; bit 16: tuples with OIDs)`, { flags })
      const extension = buffer.readInt32BE(SIGNATURE.length + 4)
      if (extension < 0) throw malformed(`the header extension has a negative length, ${extension}`)
      if (buffer.length < HEADER_BYTES + extension) {
        this.pending = buffer
        return
      }
      pos = HEADER_BYTES + extension
      this.header = true
    }
    const { offsets, lengths, sizes, nullable, fields } = this
    const fieldCount = fields.length
    const size = buffer.length
    for (;;) {
      if (size - pos < 2) break
      const count = buffer.readInt16BE(pos)
      if (count === -1) {
        this.ended = true
        pos += 2
        break
      }
      if (count !== fieldCount) throw malformed(`tuple ${this.tuples} has ${count} fields, expected ${fieldCount}`, { tuple: this.tuples, fields: count, expected: fieldCount })
      let p = pos + 2
      let complete = true
      for (let c = 0; c < count; c++) {
        if (size - p < 4) {
          complete = false
          break
        }
        const length = buffer.readInt32BE(p)
        p += 4
        // One comparison on the common path (a value of a fixed-length type).
        if (length !== sizes[c]) {
          if (length === -1) {
            if (nullable[c] === 0) throw malformed(`field ${fields[c].name} of tuple ${this.tuples} is NULL, which it may not be`, { tuple: this.tuples, field: fields[c].name })
          } else if (length < 0 || sizes[c] !== ANY_LENGTH) {
            throw malformed(`field ${fields[c].name} (${fields[c].type}) of tuple ${this.tuples} has ${length} bytes, expected ${sizes[c] === ANY_LENGTH ? 'zero or more' : sizes[c]}`, { tuple: this.tuples, field: fields[c].name, length })
          }
        }
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
    if (this.ended && pos < size) throw malformed('data continues past its trailer')
    this.pending = pos < size ? buffer.subarray(pos) : null
  }

  /** The stream ended: it must have ended with the trailer, on a tuple boundary. */
  end(): void {
    if (!this.ended || this.pending !== null) throw malformed(`the data ended before its trailer (after ${this.tuples} tuples)`, { tuples: this.tuples })
  }
}

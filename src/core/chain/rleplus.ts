import { ChainCodecError } from "./errors.ts";

/**
 * RLE+ (the Filecoin bitfield encoding) between bytes and runs, ported from go-bitfield's rle/rleplus.go
 * and checked against its vectors (tests/fixtures/vectors/chain.json).
 *
 * The bits, least significant first in each byte: a 2-bit version (00), the value of the first run, then
 * one block per run length: "1" for 1, "01" + 4 bits for 2..15, "00" + an unsigned LEB128 varint for 16
 * and more. Runs alternate between unset and set; zeros after the last set run are implicit, and so are
 * trailing zero bytes (there are none).
 *
 * Decoding refuses everything go-bitfield refuses (wrong version, a trailing zero byte, a varint over 10
 * bytes or 2^64-1, a varint with a zero last byte, runs adding up past 2^64-1) and also the non-minimal
 * forms the chain's own decoder (fvm_ipld_bitfield, which the miner actor runs) refuses and go-bitfield
 * lets through: a short block under 2, a varint block under 16, bits after a zero-length block, a trailing
 * run of zeros. So what decodes here is exactly what the chain accepts, and encoding then decoding is the
 * identity.
 */

/** A run of `length` equal bits; `set` says whether they are ones. Lengths reach 2^64-1, hence bigint. */
export interface Run {
  set: boolean;
  length: bigint;
}

/** The largest encoded bitfield the chain takes in a message (go-bitfield MaxEncodedSize). */
export const MAX_ENCODED_BITFIELD_BYTES = 32 << 10;

const U64_MAX = (1n << 64n) - 1n;
const VARINT_MAX_BYTES = 10;

class BitWriter {
  private readonly out: number[] = [];
  private acc = 0;
  private bits = 0;

  write(value: number, count: number): void {
    this.acc |= value << this.bits;
    this.bits += count;
    while (this.bits >= 8) {
      this.out.push(this.acc & 0xff);
      this.acc >>>= 8;
      this.bits -= 8;
    }
  }

  writeLength(length: bigint): void {
    if (length === 1n) {
      this.write(1, 1);
    } else if (length < 16n) {
      this.write(0b10, 2);
      this.write(Number(length), 4);
    } else {
      this.write(0b00, 2);
      let rest = length;
      while (rest >= 0x80n) {
        this.write(Number(rest & 0x7fn) | 0x80, 8);
        rest >>= 7n;
      }
      this.write(Number(rest), 8);
    }
  }

  finish(): Uint8Array {
    if (this.bits > 0) this.out.push(this.acc & 0xff);
    let end = this.out.length;
    while (end > 0 && this.out[end - 1] === 0) end--;
    return Uint8Array.from(this.out.slice(0, end));
  }
}

/**
 * Encodes runs as RLE+. Runs must alternate, each at least 1 long, and add up to at most 2^64-1 bits; a
 * trailing unset run is dropped (it is implicit), so no runs, or only unset ones, give empty bytes.
 */
export function encodeRuns(runs: readonly Run[]): Uint8Array {
  let end = runs.length;
  while (end > 0 && !runs[end - 1]!.set) end--;
  if (end === 0) return new Uint8Array(0);
  const writer = new BitWriter();
  writer.write(0, 2);
  writer.write(runs[0]!.set ? 1 : 0, 1);
  let total = 0n;
  for (let i = 0; i < end; i++) {
    const run = runs[i]!;
    if (i > 0 && run.set === runs[i - 1]!.set) {
      throw new ChainCodecError(
        "bitfield-not-minimal",
        `RLE+ runs ${i - 1} and ${i} are both ${run.set ? "set" : "unset"}: runs must alternate`,
      );
    }
    if (run.length < 1n)
      throw new ChainCodecError(
        "bitfield-not-minimal",
        `RLE+ run ${i} has length ${run.length}; runs are at least 1 long`,
      );
    total += run.length;
    if (total > U64_MAX)
      throw new ChainCodecError("bitfield-overflow", `RLE+ runs add up past 2^64-1 bits at run ${i}`);
    writer.writeLength(run.length);
  }
  return writer.finish();
}

class BitReader {
  private pos = 0;
  /** One past the last set bit: beyond it every bit reads as zero. */
  private readonly end: number;

  constructor(private readonly bytes: Uint8Array) {
    const last = bytes.length === 0 ? 0 : bytes[bytes.length - 1]!;
    this.end = bytes.length === 0 ? 0 : (bytes.length - 1) * 8 + (32 - Math.clz32(last));
  }

  hasMore(): boolean {
    return this.pos < this.end;
  }

  /** Reads `count` (at most 8) bits, least significant first; past the end, zeros. */
  read(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++, this.pos++) {
      const byte = this.bytes[this.pos >>> 3] ?? 0;
      value |= ((byte >>> (this.pos & 7)) & 1) << i;
    }
    return value;
  }
}

function readVarint(reader: BitReader): bigint {
  let value = 0n;
  for (let i = 0; i < VARINT_MAX_BYTES; i++) {
    const byte = reader.read(8);
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if ((byte & 0x80) === 0) {
      if (i === VARINT_MAX_BYTES - 1 && byte > 1) {
        throw new ChainCodecError("bitfield-invalid-varint", "RLE+ run length is over 2^64-1");
      }
      if (byte === 0 && i > 0) {
        throw new ChainCodecError("bitfield-invalid-varint", "RLE+ run length varint is not minimal (zero last byte)");
      }
      return value;
    }
  }
  throw new ChainCodecError(
    "bitfield-invalid-varint",
    `RLE+ run length varint is longer than ${VARINT_MAX_BYTES} bytes`,
  );
}

function readLength(reader: BitReader): bigint {
  if (reader.read(1) === 1) return 1n;
  if (reader.read(1) === 1) {
    const length = reader.read(4);
    if (length < 2)
      throw new ChainCodecError("bitfield-not-minimal", `RLE+ short block holds ${length}; it carries 2..15`);
    return BigInt(length);
  }
  const length = readVarint(reader);
  if (length < 16n)
    throw new ChainCodecError("bitfield-not-minimal", `RLE+ long block holds ${length}; it carries 16 and more`);
  return length;
}

/**
 * Decodes RLE+ bytes into alternating runs (the last one set). Throws ChainCodecError with a
 * `bitfield-*` code for anything the chain refuses, and for more than `maxBytes` bytes.
 */
export function decodeRuns(bytes: Uint8Array, maxBytes: number = MAX_ENCODED_BITFIELD_BYTES): Run[] {
  if (bytes.length > maxBytes) {
    throw new ChainCodecError("bitfield-too-large", `RLE+ bitfield is ${bytes.length} bytes; the limit is ${maxBytes}`);
  }
  if (bytes.length > 0 && bytes[bytes.length - 1] === 0) {
    throw new ChainCodecError("bitfield-not-minimal", "RLE+ bitfield ends in a zero byte");
  }
  const reader = new BitReader(bytes);
  const version = reader.read(2);
  if (version !== 0) throw new ChainCodecError("bitfield-version", `RLE+ version is ${version}; only 0 exists`);
  let set = reader.read(1) === 1;
  const runs: Run[] = [];
  let total = 0n;
  while (reader.hasMore()) {
    const length = readLength(reader);
    total += length;
    if (total > U64_MAX) throw new ChainCodecError("bitfield-overflow", "RLE+ runs add up past 2^64-1 bits");
    runs.push({ set, length });
    set = !set;
  }
  // An unset run must be followed by a set one: zeros at the end are implicit, never written.
  if (set) {
    throw new ChainCodecError("bitfield-not-minimal", "RLE+ bitfield ends with a written run of zeros");
  }
  return runs;
}

import * as v from "valibot";
import { ChainCodecError } from "./errors.ts";

/**
 * Token amounts (attoFIL, 10^-18 FIL) as bigint, as the bytes of a go-state-types big.Int (the form of
 * every TokenAmount inside CBOR: a sign byte, 0 or 1, then the big-endian magnitude; zero is no bytes)
 * and as FIL strings the way Lotus prints and parses them ("1.5 FIL", "250 attoFIL").
 */

export const ATTO_PER_FIL = 10n ** 18n;
/** go-state-types BigIntMaxSerializedLen: longer amounts are refused before conversion. */
const MAX_SERIALIZED_BYTES = 128;

/** The big.Int bytes of an amount. */
export function tokenToBytes(atto: bigint): Uint8Array {
  if (atto === 0n) return new Uint8Array(0);
  let magnitude = atto < 0n ? -atto : atto;
  const digits: number[] = [];
  while (magnitude > 0n) {
    digits.push(Number(magnitude & 0xffn));
    magnitude >>= 8n;
  }
  if (digits.length + 1 > MAX_SERIALIZED_BYTES) {
    throw new ChainCodecError("token", `token amount ${atto} needs more than ${MAX_SERIALIZED_BYTES} bytes`);
  }
  return Uint8Array.from([atto < 0n ? 1 : 0, ...digits.reverse()]);
}

/** The amount in big.Int bytes, refused as go-state-types refuses it (bad sign byte, too long). */
export function tokenFromBytes(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  if (bytes.length > MAX_SERIALIZED_BYTES) {
    throw new ChainCodecError("token", `token amount is ${bytes.length} bytes; at most ${MAX_SERIALIZED_BYTES}`);
  }
  const sign = bytes[0];
  if (sign !== 0 && sign !== 1) {
    throw new ChainCodecError("token", `token amount sign byte is ${sign}; it is 0 (positive) or 1 (negative)`);
  }
  let magnitude = 0n;
  for (let i = 1; i < bytes.length; i++) magnitude = (magnitude << 8n) | BigInt(bytes[i]!);
  return sign === 1 ? -magnitude : magnitude;
}

/** Lotus's types.FIL String(): the amount in FIL without trailing zeros, "0 FIL" for nothing. */
export function formatFil(atto: bigint): string {
  const negative = atto < 0n;
  const magnitude = negative ? -atto : atto;
  const whole = magnitude / ATTO_PER_FIL;
  const fraction = (magnitude % ATTO_PER_FIL).toString().padStart(18, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${fraction ? `.${fraction}` : ""} FIL`;
}

const FIL_TEXT = /^(-?)([0-9]+)(?:\.([0-9]+))?\s*(fil|attofil|afil)?$/i;

/**
 * Parses "1.5", "1.5 FIL", "0.01fil", "250 attoFIL" (as Lotus's ParseFIL): a plain number is FIL; the
 * attoFIL suffixes take whole numbers only. Throws ChainCodecError "token" naming the text.
 */
export function parseFil(text: string): bigint {
  const match = FIL_TEXT.exec(text.trim());
  if (!match || text.length > 60) {
    throw new ChainCodecError(
      "token",
      `${JSON.stringify(text)} is not an amount: write e.g. "0.5 FIL" or "1000 attoFIL"`,
    );
  }
  const [, minus, whole, fraction = "", unit = "fil"] = match;
  let atto: bigint;
  if (unit.toLowerCase() === "fil") {
    if (fraction.length > 18) {
      throw new ChainCodecError("token", `${JSON.stringify(text)} is more precise than 1 attoFIL (18 decimals)`);
    }
    atto = BigInt(whole!) * ATTO_PER_FIL + BigInt(fraction.padEnd(18, "0"));
  } else {
    if (fraction) throw new ChainCodecError("token", `${JSON.stringify(text)}: attoFIL amounts are whole numbers`);
    atto = BigInt(whole!);
  }
  return minus ? -atto : atto;
}

/**
 * A valibot schema for an amount from config or the command line, always a string with its unit implied
 * or written ("0.5 FIL", "0.5", "1000 attoFIL"): a bare number would leave FIL or attoFIL to guesswork.
 */
export const FilAmountSchema = v.pipe(
  v.string('an amount is a string like "0.5 FIL" or "1000 attoFIL"'),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    try {
      return parseFil(dataset.value);
    } catch (err) {
      addIssue({ message: (err as Error).message });
      return NEVER;
    }
  }),
);

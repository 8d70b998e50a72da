import { decode as decodeDagCbor, encode as encodeDagCbor } from "@ipld/dag-cbor";
import { CID } from "multiformats/cid";
import * as v from "valibot";
import { cidToCommitment } from "../sector/cid.ts";
import { addressFromBytes, type Network, parseAddress } from "./address.ts";
import { bitfieldFromNumbers, bitfieldToNumbers } from "./bitfield.ts";
import { ChainCodecError, type ChainCodecErrorCode } from "./errors.ts";
import { tokenFromBytes, tokenToBytes } from "./token.ts";

/**
 * Field codecs for the CBOR tuples of builtin-actors and Lotus (cbor-gen "tuple" structs): one description
 * per type gives both directions. `schema` (valibot) checks a value that @ipld/dag-cbor decoded and turns
 * it into the TypeScript value, naming the field path in every refusal; `encode` turns the TypeScript value
 * into what dag-cbor writes. Integers are JavaScript numbers and must stay below 2^53 (dag-cbor would write
 * a larger number as a float and reads a larger integer as a bigint, which the schemas refuse).
 */

export interface FieldCodec<T> {
  readonly schema: v.GenericSchema<unknown, T>;
  /** The value as dag-cbor should write it; `path` names the field in errors ("sectors[0].sealedCid"). */
  encode(value: T, path: string): unknown;
}

export type CodecValue<C> = C extends FieldCodec<infer T> ? T : never;

const fail = (path: string, why: string): never => {
  throw new ChainCodecError("params", `${path}: ${why}`);
};

/** `base`, then `fn` on its output; an error `fn` throws becomes a valibot issue with its message. */
function refine<I, O>(base: v.GenericSchema<unknown, I>, fn: (value: I) => O): v.GenericSchema<unknown, O> {
  const convert = v.rawTransform<I, O>(({ dataset, addIssue, NEVER }) => {
    try {
      return fn(dataset.value);
    } catch (err) {
      addIssue({ message: (err as Error).message });
      return NEVER;
    }
  });
  return v.pipe(base, convert);
}

const byteString = (what: string): v.GenericSchema<unknown, Uint8Array> => v.instance(Uint8Array, what);

export const uint: FieldCodec<number> = {
  schema: v.pipe(
    v.number("an unsigned integer below 2^53"),
    v.safeInteger("an unsigned integer below 2^53"),
    v.minValue(0, "an unsigned integer"),
  ),
  encode: (value, path) =>
    Number.isSafeInteger(value) && value >= 0 ? value : fail(path, `${value} is not an unsigned integer below 2^53`),
};

export const int: FieldCodec<number> = {
  schema: v.pipe(v.number("an integer within ±2^53"), v.safeInteger("an integer within ±2^53")),
  encode: (value, path) =>
    Number.isSafeInteger(value) ? value : fail(path, `${value} is not an integer within ±2^53`),
};

export const bool: FieldCodec<boolean> = {
  schema: v.boolean("true or false"),
  encode: (value, path) => (typeof value === "boolean" ? value : fail(path, `${value} is not a boolean`)),
};

export function bytes(maxLength = Number.MAX_SAFE_INTEGER): FieldCodec<Uint8Array> {
  return {
    schema: v.pipe(v.instance(Uint8Array, "a byte string"), v.maxLength(maxLength, `at most ${maxLength} bytes`)),
    encode: (value, path) =>
      value instanceof Uint8Array && value.length <= maxLength
        ? value
        : fail(path, `not a byte string of at most ${maxLength} bytes`),
  };
}

/** A bitfield (RLE+ bytes) as the sorted list of its set bits. */
export const bitfield: FieldCodec<number[]> = {
  schema: refine(byteString("an RLE+ bitfield (byte string)"), (b) => bitfieldToNumbers(b)),
  encode: (value, path) => wrap(path, () => bitfieldFromNumbers(value)),
};

/** A commitment CID (go-fil-commcid) as its string: "sealed" for CommR, "unsealed" for CommD/CommP. */
export function commitmentCid(kind: "sealed" | "unsealed"): FieldCodec<string> {
  return {
    schema: refine(
      v.custom<CID>((value) => CID.asCID(value) !== null, "a CID"),
      (cid) => {
        const text = CID.asCID(cid)!.toString();
        cidToCommitment(text, kind);
        return text;
      },
    ),
    encode: (value, path) =>
      wrap(path, () => {
        cidToCommitment(value, kind);
        return CID.parse(value);
      }),
  };
}

/** An address (bytes on the wire) as its string for `network`. */
export function address(network: Network): FieldCodec<string> {
  return {
    schema: refine(byteString("an address (byte string)"), (b) => addressFromBytes(b, network).string),
    encode: (value, path) => wrap(path, () => parseAddress(value).bytes),
  };
}

/** A TokenAmount (big.Int bytes) as attoFIL. */
export const token: FieldCodec<bigint> = {
  schema: refine(byteString("a token amount (byte string)"), tokenFromBytes),
  encode: (value, path) => wrap(path, () => tokenToBytes(value)),
};

export function nullable<T>(inner: FieldCodec<T>): FieldCodec<T | null> {
  return {
    schema: v.nullable(inner.schema),
    encode: (value, path) => (value === null ? null : inner.encode(value, path)),
  };
}

export function list<T>(item: FieldCodec<T>, maxLength = 1 << 16): FieldCodec<T[]> {
  return {
    schema: v.pipe(v.array(item.schema, "a list"), v.maxLength(maxLength, `at most ${maxLength} entries`)),
    encode: (value, path) =>
      Array.isArray(value) && value.length <= maxLength
        ? value.map((entry, i) => item.encode(entry, `${path}[${i}]`))
        : fail(path, `not a list of at most ${maxLength} entries`),
  };
}

type Entries = Record<string, FieldCodec<unknown>>;
type TupleValue<E extends Entries> = { [K in keyof E]: CodecValue<E[K]> };

/** A cbor-gen tuple struct: the fields in the order given, written as a CBOR array. */
export function tuple<E extends Entries>(entries: E): FieldCodec<TupleValue<E>> {
  const keys = Object.keys(entries);
  const schemas = Object.fromEntries(keys.map((k) => [k, entries[k]!.schema])) as {
    [K in keyof E]: E[K]["schema"];
  };
  const schema = v.pipe(
    v.array(v.unknown(), `a tuple of ${keys.length} fields (${keys.join(", ")})`),
    v.length(keys.length, `a tuple of ${keys.length} fields (${keys.join(", ")})`),
    v.transform((values) => Object.fromEntries(keys.map((k, i) => [k, values[i]]))),
    v.object(schemas),
  );
  return {
    schema: schema as unknown as v.GenericSchema<unknown, TupleValue<E>>,
    encode: (value, path) =>
      keys.map((k) => entries[k]!.encode((value as Record<string, unknown>)[k], path ? `${path}.${k}` : k)),
  };
}

function wrap<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    return fail(path, (err as Error).message);
  }
}

/** CBOR bytes of `value` under `codec`; `what` names the value in errors ("PreCommitSectorBatch2 params"). */
export function encodeWith<T>(
  codec: FieldCodec<T>,
  value: T,
  what: string,
  code: ChainCodecErrorCode = "params",
): Uint8Array {
  try {
    return encodeDagCbor(codec.encode(value, ""));
  } catch (err) {
    throw new ChainCodecError(code, `${what}: ${(err as Error).message}`);
  }
}

/**
 * The value in CBOR `bytes` under `codec`. Refuses non-canonical CBOR (dag-cbor is strict), trailing bytes,
 * and anything the schema refuses, with the field path: "PreCommitSectorBatch2 params: sectors.0.sealedCid: …".
 */
export function decodeWith<T>(
  codec: FieldCodec<T>,
  bytes: Uint8Array,
  what: string,
  code: ChainCodecErrorCode = "params",
): T {
  let value: unknown;
  try {
    value = decodeDagCbor(bytes);
  } catch (err) {
    throw new ChainCodecError("cbor", `${what}: not canonical dag-cbor: ${(err as Error).message}`);
  }
  const result = v.safeParse(codec.schema, value);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const where = v.getDotPath(issue) ?? "";
  throw new ChainCodecError(code, `${what}: ${where ? `${where}: ` : ""}${issue.message}`);
}

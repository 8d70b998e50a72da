import type { WdPoStInput } from "../../core/sector/api-wdpost.ts";

/**
 * A WindowPoSt job's id is derived from its input, so asking twice for the same proof (a poster retry, a
 * manager restart mid-deadline) finds the job that already exists instead of computing it again.
 *
 * id = base58(little-endian xxhash64(JSON of the input)), with the JSON written the way Go's encoding/json
 * writes core.WdPoStInput (field order, HTML-safe escapes): the same input gets the same id here and in
 * the Go manager.
 */

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** Bitcoin-alphabet base58 (mr-tron/base58's Encode): leading zero bytes become leading "1"s. */
export function base58(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = "";
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)] + out;
    n /= 58n;
  }
  return "1".repeat(zeros) + out;
}

/** JSON as Go's json.Marshal writes it: <, >, & and U+2028/2029 escaped inside strings. */
function goJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/** The input re-built field by field, so key order never depends on how the caller built its object. */
export function canonicalInputJson(input: WdPoStInput): string {
  return goJson({
    Sectors:
      input.Sectors?.map((s) => ({
        SectorId: s.SectorId,
        CommR: [...s.CommR],
        Upgrade: s.Upgrade,
        Accesses: { SealedFile: s.Accesses.SealedFile, CacheDir: s.Accesses.CacheDir },
      })) ?? null,
    MinerId: input.MinerId,
    ProofType: input.ProofType,
    Seed: [...input.Seed],
  });
}

export function wdpostJobId(input: WdPoStInput): string {
  const hash = Bun.hash.xxHash64(canonicalInputJson(input));
  const le = new Uint8Array(8);
  new DataView(le.buffer).setBigUint64(0, BigInt.asUintN(64, hash), true);
  return base58(le);
}

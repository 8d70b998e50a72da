import { readFileSync } from "node:fs";
import * as v from "valibot";
import type { PresealSector } from "./chain.ts";

/**
 * A pre-seal manifest (`[[Common.Devnet.Miners]] PreSealed = "…"`): sectors sealed before genesis, like
 * lotus-seed's, active from the moment the devnet creates the miner. Their files live in a persist store;
 * the manager indexes them there so the poster finds them.
 *
 *   {"Actor": 1000, "Store": "store-1", "Sectors": [{"Number": 1, "SealProof": 5, "CommR": "<64 hex chars>"}]}
 */
const hex32 = v.pipe(v.string(), v.regex(/^[0-9a-fA-F]{64}$/, "CommR must be 64 hex characters (32 bytes)"));
export const PresealManifestSchema = v.object({
  Actor: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  Store: v.pipe(v.string(), v.minLength(1, "Store must name a [[Common.PersistStores]] entry")),
  Sectors: v.array(
    v.object({
      Number: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
      SealProof: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
      CommR: hex32,
    }),
  ),
});
export type PresealManifest = v.InferOutput<typeof PresealManifestSchema>;

export function readPresealManifest(path: string, actor: number): PresealManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`[[Common.Devnet.Miners]] PreSealed = "${path}": ${(err as Error).message}`);
  }
  const parsed = v.safeParse(PresealManifestSchema, raw);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const where = issue.path?.map((p) => p.key).join(".") ?? "(root)";
    throw new Error(`pre-seal manifest ${path}: ${where}: ${issue.message}`);
  }
  if (parsed.output.Actor !== actor)
    throw new Error(`pre-seal manifest ${path} is for actor ${parsed.output.Actor}, configured under Actor = ${actor}`);
  return parsed.output;
}

export function presealSectors(m: PresealManifest): PresealSector[] {
  return m.Sectors.map((s) => ({
    actor: m.Actor,
    number: s.Number,
    sealProof: s.SealProof,
    commR: [...Buffer.from(s.CommR, "hex")],
  }));
}

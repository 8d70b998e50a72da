import * as v from "valibot";

const u64 = (what: string) =>
  v.pipe(
    v.number(`${what} must be a number`),
    v.safeInteger(`${what} must be a non-negative integer`),
    v.minValue(0, `${what} must be a non-negative integer`),
  );

export const ActorIDSchema = u64("actor id");
export const SectorNumberSchema = u64("sector number");
export const EpochSchema = v.pipe(v.number("epoch must be a number"), v.safeInteger("epoch must be an integer"));

/** abi.SectorID: {"Miner": actor id, "Number": sector number}. */
export const SectorIDSchema = v.object({ Miner: ActorIDSchema, Number: SectorNumberSchema });
export type SectorID = v.InferOutput<typeof SectorIDSchema>;

/** A sector's identity as the worker stores it (snake_case, like the Rust worker's saved jobs). */
export interface WorkerSectorRef {
  miner: number;
  number: number;
}

/** The name workers and files use for a sector: s-t0<miner>-<number>. Takes the wire or the worker shape. */
export function sectorName(id: SectorID | WorkerSectorRef): string {
  return "Miner" in id ? `s-t0${id.Miner}-${id.Number}` : `s-t0${id.miner}-${id.number}`;
}

/** The manager's KV key for a sector, as in the original: m-<miner>-n-<number>. */
export function sectorKey(id: SectorID): string {
  return `m-${id.Miner}-n-${id.Number}`;
}

export function sameSector(a: SectorID, b: SectorID): boolean {
  return a.Miner === b.Miner && a.Number === b.Number;
}

/** prover_id for the proofs library: the ID address payload (uvarint of the actor id), zero-padded to 32 bytes. */
export function proverId(actor: number): Uint8Array {
  const out = new Uint8Array(32);
  let x = actor;
  let i = 0;
  while (x >= 0x80) {
    out[i++] = (x & 0x7f) | 0x80;
    x = Math.floor(x / 128);
  }
  out[i] = x;
  return out;
}

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type * as v from "valibot";
import { bearer } from "../../src/core/auth/index.ts";
import { RpcClient } from "../../src/core/rpc/index.ts";
import type { Proving } from "../../src/core/sector/api-proving.ts";
import { layoutPersistStore, POST_FIXTURE_ACTOR, postSectors2KiB } from "../fixtures/post-sectors.ts";
import { type ManagerHandle, startManager } from "./cluster.ts";

export interface PoStManagerOptions {
  /** Fixture sector numbers to pre-seal (1..6). */
  sectors: number[];
  /** Extra `manager run` flags, e.g. ["--poster"]. */
  runArgs?: string[];
  blockTime?: string;
  /** Applied after the PoSt edits. */
  configure?: (cfg: string) => string;
}

/**
 * A devnet manager whose miner f01000 starts with real pre-sealed 2KiB sectors (from the shared PoSt
 * fixture) in its persist store, so PoSt tests need no sealing pipeline. Deadlines are short: 30 epochs
 * of `blockTime` (default 750ms), 4 per period; the poster starts 8 epochs before a deadline opens.
 */
export async function startPoStManager(home: string, opts: PoStManagerOptions): Promise<ManagerHandle> {
  const all = await postSectors2KiB();
  const chosen = all.filter((s) => opts.sectors.includes(s.sectorId));
  layoutPersistStore(join(home, "persist-1"), chosen);
  const manifest = join(home, "preseal.json");
  writeFileSync(
    manifest,
    JSON.stringify({
      Actor: POST_FIXTURE_ACTOR,
      Store: "persist-1",
      Sectors: chosen.map((s) => ({
        Number: s.sectorId,
        SealProof: s.sealProof,
        CommR: Buffer.from(s.commR).toString("hex"),
      })),
    }),
  );
  return startManager(
    home,
    (cfg) => {
      let out = cfg
        .replace(/#PreSealed = .*/, `PreSealed = ${JSON.stringify(manifest)}`)
        .replace('#BlockTime = "1s"', `BlockTime = "${opts.blockTime ?? "750ms"}"`)
        .replace("#ChallengeConfidence = 0", "ChallengeConfidence = 2")
        .replace("#MaxNumber = 1000000", "MaxNumber = 100");
      if (opts.configure) out = opts.configure(out);
      return out;
    },
    opts.runArgs ?? ["--poster"],
  );
}

/** A client of a node with the admin token of its home. */
export function provingClient(node: { api: string; token: string }): RpcClient {
  return new RpcClient(`http://${node.api}/rpc/v0`, { headers: bearer(node.token) });
}

export type PoStRecordWire = v.InferOutput<(typeof Proving.Records)["result"]>[number];

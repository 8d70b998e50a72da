/**
 * The SnapDeals part of ./scripts/demo (--snap N): once every sector is sealed, N more files become deals,
 * `util sealer snap fetch` marks the miner's CC sectors as candidates, and the worker's snapup thread
 * encodes the deals into N of them; the manager sends ProveReplicaUpdates, the devnet verifies the update
 * proofs with the real library, and the sectors are finalized as upgraded (their CC replica removed).
 */

import type { RpcClient } from "../src/core/rpc/client.ts";
import { Venus } from "../src/core/sector/api.ts";
import { type DemoDeal, importDeals } from "./demo-deals.ts";

type Run = (args: string[]) => Promise<string>;

/** Turns SnapUp on in a fresh sector-manager.cfg, with waits short enough for a demo. */
export function enableSnapUp(cfg: string): string {
  const edits: [string, string][] = [
    ["#[Miners.SnapUp]\n#Enabled = false", "[Miners.SnapUp]\nEnabled = true"],
    ["#MessageConfidence = 15", "MessageConfidence = 2"],
    ["#ReleaseConfidence = 30", "ReleaseConfidence = 2"],
    ["#[Miners.SnapUp.Retry]", "[Miners.SnapUp.Retry]"],
    ['#PollInterval = "3m0s"', 'PollInterval = "1s"'],
    ['#APIFailureWait = "3m0s"', 'APIFailureWait = "2s"'],
    ['#LocalFailureWait = "3m0s"', 'LocalFailureWait = "2s"'],
    ["#[Miners.SnapUp.Batch]", "[Miners.SnapUp.Batch]"],
    ['#MaxWait = "1h0m0s"', 'MaxWait = "5s"'],
    ['#CheckInterval = "1m0s"', 'CheckInterval = "1s"'],
  ];
  for (const [from, to] of edits) {
    if (!cfg.includes(from)) throw new Error(`demo: the config template has no "${from}" to enable SnapUp with`);
    cfg = cfg.replace(from, to);
  }
  return cfg;
}

/** Imports the snap deals and marks the candidates; returns the deals. */
export async function startSnaps(
  run: Run,
  home: string,
  managerHome: string,
  n: number,
  say: (msg: string) => void,
): Promise<DemoDeal[]> {
  const deals = await importDeals(run, `${home}/snap`, managerHome, n);
  say(`snap: ${n} deal(s) published for SnapDeals: ${deals.map((d) => `${d.dealId} ${d.pieceCid}`).join(", ")}`);
  const fetched = await run(["util", "sealer", "snap", "fetch", "1000", "--home", managerHome]);
  say(`snap: ${fetched.trim()}`);
  return deals;
}

/** Sectors the manager has finalized as upgraded (their update on chain, past ReleaseConfidence). */
export async function snappedSectors(client: RpcClient): Promise<number> {
  const online = (await client.call(Venus.ListSectors, "online", 0)) ?? [];
  const offline = (await client.call(Venus.ListSectors, "offline", 0)) ?? [];
  return [...online, ...offline].filter((s) => s.Upgraded && s.Finalized).length;
}

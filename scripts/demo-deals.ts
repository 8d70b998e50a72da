/**
 * The deals part of ./scripts/demo (--deals K): K random files of different sizes become storage deals on the
 * devnet before the worker starts, the worker seals them into sectors, and once the deals are active the
 * piece-store copies are deleted and every piece is unsealed from its sector and compared byte for byte.
 */

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { MarketDeal } from "../src/core/sector/api-market.ts";

export interface DemoDeal {
  file: string;
  pieceCid: string;
  dealId: number;
}

type Run = (args: string[]) => Promise<string>;

/** Payload sizes for K deals: different sizes up to 1016 bytes (a 1KiB piece), so two fit one 2KiB sector. */
export function dealSizes(k: number): number[] {
  return Array.from({ length: k }, (_, i) => 100 + ((i * 389 + Math.floor(Math.random() * 97)) % 900));
}

export async function importDeals(run: Run, home: string, managerHome: string, k: number): Promise<DemoDeal[]> {
  const dir = join(home, "deal-data");
  mkdirSync(dir, { recursive: true });
  const deals: DemoDeal[] = [];
  for (const [i, size] of dealSizes(k).entries()) {
    const file = join(dir, `deal-${i + 1}.bin`);
    writeFileSync(file, crypto.getRandomValues(new Uint8Array(size)));
    const out = await run(["util", "market", "import", file, "--miner", "1000", "--json", "--home", managerHome]);
    const deal = JSON.parse(out) as MarketDeal;
    deals.push({ file, pieceCid: deal.PieceCID["/"], dealId: deal.DealID });
  }
  return deals;
}

export async function activeDeals(run: Run, managerHome: string): Promise<number> {
  const deals = JSON.parse(await run(["util", "market", "deals", "--json", "--home", managerHome])) as MarketDeal[];
  return deals.filter((d) => d.State === "active").length;
}

/** Deletes every piece-store copy, so a retrieval has to unseal from the sealed sector. */
export function dropPieceCopies(managerHome: string): number {
  const dir = join(managerHome, "pieces");
  const files = readdirSync(dir).filter((f) => f.startsWith("baga"));
  for (const f of files) rmSync(join(dir, f));
  return files.length;
}

/** Retrieves each piece (now only in its sector) and counts those equal to the imported file. */
export async function unsealAndCompare(
  run: Run,
  home: string,
  managerHome: string,
  deals: readonly DemoDeal[],
  say: (msg: string) => void,
): Promise<number> {
  const dir = join(home, "retrieved");
  mkdirSync(dir, { recursive: true });
  let same = 0;
  for (const d of deals) {
    const out = join(dir, `${d.pieceCid}.bin`);
    await run(["util", "market", "retrieve", d.pieceCid, out, "--home", managerHome, "--timeout", "600"]);
    const ok = Buffer.from(readFileSync(out)).equals(Buffer.from(readFileSync(d.file)));
    if (ok) same++;
    say(
      `deal ${d.dealId}: ${d.pieceCid} unsealed from its sector, ${ok ? "bytes equal the imported file" : "BYTES DIFFER"}`,
    );
  }
  return same;
}

import { resolve } from "node:path";
import { CliError, command } from "../../core/cli/command.ts";
import { renderTable } from "../../core/cli/table.ts";
import { Market, type MarketDeal } from "../../core/sector/api-market.ts";
import { sectorName } from "../../core/sector/index.ts";
import { mintToken } from "../auth.ts";
import { managerApiArgs, withManager } from "../sealer/client.ts";
import { retrieveCommand } from "./retrieve.ts";

function parseCount(flag: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const cleaned = flag === "--miner" ? text.replace(/^[ft]0/, "") : text;
  const n = Number(cleaned);
  if (!/^-?\d+$/.test(cleaned) || !Number.isSafeInteger(n) || n < min)
    throw new CliError(`${flag}: expected an integer of at least ${min}, got "${text}"`, 2);
  return n;
}

/** The deals as `util market deals` prints them: one row per deal, ordered by deal id. */
export function renderDeals(deals: readonly MarketDeal[]): string {
  const rows = deals.map((d) => [
    d.DealID,
    d.PieceCID["/"],
    d.PieceSize,
    d.Client,
    `f0${d.Provider}`,
    d.StartEpoch,
    d.EndEpoch,
    d.Verified ? `${d.State} (verified)` : d.State,
    d.Sector ? sectorName(d.Sector) : "-",
  ]);
  return renderTable(["DealID", "PieceCID", "Size", "Client", "Provider", "Start", "End", "State", "Sector"], rows);
}

const importCmd = command({
  meta: {
    name: "import",
    description:
      "Make a file on the manager's host a storage deal: CommP, a copy in a piece store, a deal published on the devnet",
  },
  args: {
    ...managerApiArgs,
    file: { type: "positional", description: "the file (a path on the manager's host)", required: true },
    miner: { type: "string", description: "provider miner actor id (default: the first miner with EnableDeals)" },
    duration: { type: "string", description: "deal duration in epochs (default 518400: 180 days of 30 s epochs)" },
    "start-epoch": { type: "string", description: "start epoch (default: far enough ahead to seal a sector first)" },
    verified: { type: "boolean", description: "a verified (DataCap) deal" },
    json: { type: "boolean", description: "print the deal as JSON" },
  },
  examples: [
    "damocles util market import ./data.bin",
    "damocles util market import /srv/data/part-1.car --miner 1000 --duration 600000 --json",
  ],
  async run({ args }) {
    const spec = {
      Miner: parseCount("--miner", args.miner, 0) ?? null,
      Duration: parseCount("--duration", args.duration, 1) ?? null,
      StartEpoch: parseCount("--start-epoch", args["start-epoch"], 0) ?? null,
      Verified: Boolean(args.verified),
    };
    // CommP of a large file takes a while; the manager answers when the deal is published.
    const deal = await withManager(args, (c) => c.call(Market.Import, resolve(args.file), spec), {
      timeoutMs: 3_600_000,
    });
    if (args.json) {
      process.stdout.write(`${JSON.stringify(deal, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      `deal ${deal.DealID} published: piece ${deal.PieceCID["/"]} (${deal.PieceSize} bytes padded, ${deal.PayloadSize} bytes of data)\n` +
        `  provider f0${deal.Provider}, client ${deal.Client}, epochs ${deal.StartEpoch}..${deal.EndEpoch}${deal.Verified ? ", verified" : ""}, stored in piece store ${deal.PieceStore ?? "-"}\n`,
    );
  },
});

const deals = command({
  meta: { name: "deals", description: "List the market's deals with their state and sector" },
  args: {
    ...managerApiArgs,
    miner: { type: "string", description: "only this provider's deals" },
    json: { type: "boolean", description: "print the deals as JSON" },
  },
  examples: ["damocles util market deals", "damocles util market deals --miner 1000 --json"],
  async run({ args }) {
    const miner = parseCount("--miner", args.miner, 0) ?? null;
    const list = await withManager(args, (c) => c.call(Market.Deals, miner));
    if (args.json) {
      process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      return;
    }
    if (list.length === 0) {
      process.stdout.write("no deals\n");
      return;
    }
    process.stdout.write(renderDeals(list));
    process.stdout.write(`${list.length} deal(s)\n`);
  },
});

const token = command({
  meta: {
    name: "token",
    description:
      "Print a token with read permission for piece downloads (sector_manager.piece_token of workers without their own token)",
  },
  args: { ...managerApiArgs },
  examples: ["damocles util market token --home ~/.damocles-manager"],
  async run({ args }) {
    process.stdout.write(`${await mintToken(args, "piecestore", "read")}\n`);
  },
});

export const marketCommand = command({
  meta: { name: "market", description: "The manager's embedded storage market: import files as deals, list deals" },
  subCommands: { import: importCmd, deals, retrieve: retrieveCommand, token },
  examples: [
    "damocles util market import ./data.bin",
    "damocles util market deals",
    "damocles util market retrieve baga6ea4sea… ./data.bin",
    "damocles util market token",
  ],
});

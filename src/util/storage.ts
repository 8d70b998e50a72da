import { command } from "../core/cli/command.ts";
import { renderTable } from "../core/cli/table.ts";
import { formatBytes } from "../core/config/index.ts";
import { Venus } from "../core/sector/api.ts";
import { sectorName } from "../core/sector/index.ts";
import { managerApiArgs, parseSectorArgs, withManager } from "./sealer/client.ts";

const list = command({
  meta: { name: "list", description: "Persist stores with capacity and space reservations" },
  args: { ...managerApiArgs },
  examples: ["damocles util storage list"],
  async run({ args }) {
    const stores = (await withManager(args, (c) => c.call(Venus.StoreList))) ?? [];
    if (stores.length === 0) {
      process.stdout.write("no persist stores configured ([[Common.PersistStores]] in sector-manager.cfg)\n");
      return;
    }
    const rows = stores.map((s) => [
      s.Name,
      s.Path,
      s.Type,
      formatBytes(s.Total),
      formatBytes(s.Free),
      `${s.UsedPercent.toFixed(1)}%`,
      `${formatBytes(s.Reserved)} (${s.ReservedBy?.length ?? 0})`,
      s.Weight,
      [s.ReadOnly ? "readonly" : "", s.Strict ? "strict" : ""].filter(Boolean).join(",") || "-",
    ]);
    process.stdout.write(
      renderTable(["Name", "Path", "Type", "Total", "Free", "Used", "Reserved(sectors)", "Weight", "Flags"], rows),
    );
  },
});

const find = command({
  meta: { name: "find", description: "Where a sector's sealed file and cache dir are (the sector indexer)" },
  args: {
    ...managerApiArgs,
    miner: { type: "positional", description: "miner actor id", required: true },
    number: { type: "positional", description: "sector number", required: true },
    upgrade: { type: "boolean", description: "look up the snap-upgraded files instead" },
  },
  examples: ["damocles util storage find 1000 5"],
  async run({ args }) {
    const sid = parseSectorArgs(args.miner, args.number);
    const loc = await withManager(args, async (c) => {
      const found = await c.call(Venus.SectorIndexerFind, args.upgrade ? "upgrade" : "normal", sid);
      const stores = found.Found ? await c.call(Venus.StoreList) : [];
      return { found, stores: stores ?? [] };
    });
    if (!loc.found.Found) {
      process.stdout.write(`${sectorName(sid)}: not in any persist store\n`);
      process.exitCode = 1;
      return;
    }
    const path = (name: string) => loc.stores.find((s) => s.Name === name)?.Path ?? "?";
    const { SealedFile, CacheDir } = loc.found.Instance;
    process.stdout.write(
      `${sectorName(sid)}\n  sealed: ${SealedFile} (${path(SealedFile)}/sealed/${sectorName(sid)})\n  cache:  ${CacheDir} (${path(CacheDir)}/cache/${sectorName(sid)})\n`,
    );
  },
});

export const storageCommand = command({
  meta: { name: "storage", description: "Persist stores and the sector index on the manager" },
  subCommands: { list, find },
  examples: ["damocles util storage list", "damocles util storage find 1000 5"],
});

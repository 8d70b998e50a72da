import { CliError, command } from "../../core/cli/command.ts";
import { renderTable } from "../../core/cli/table.ts";
import { Venus } from "../../core/sector/api.ts";
import { type SectorState, sealProofInfo, sectorName } from "../../core/sector/index.ts";
import { managerApiArgs, parseSectorArgs, withManager } from "./client.ts";
import { rebuildCommand } from "./rebuild.ts";
import { unsealCommand } from "./unseal.ts";

function kind(s: SectorState): string {
  const marks = [s.Upgraded && "upgrade", s.NeedRebuild && "rebuild", s.Unsealing && "unseal"].filter(Boolean);
  return marks.length > 0 ? `(${marks.join(", ")})` : "sealing";
}

function latest(s: SectorState): { worker: string; change: string } {
  const l = s.LatestState;
  if (!l) return { worker: "-", change: "-" };
  const failure = l.Failure
    ? ` (${l.Failure.Level}: ${l.Failure.Desc.length > 60 ? `${l.Failure.Desc.slice(0, 57)}...` : l.Failure.Desc})`
    : "";
  return {
    worker: `${l.Worker.Instance}@${l.Worker.Location}`,
    change: `${l.StateChange.Prev} => ${l.StateChange.Next} @${l.StateChange.Event}${failure}`,
  };
}

function messages(s: SectorState): string {
  const m = s.MessageInfo;
  if (m.CommitCid) return `prove ${m.CommitCid["/"]}`;
  if (m.PreCommitCid) return `pre ${m.PreCommitCid["/"]}`;
  return m.NeedSend ? "waiting for batch" : "-";
}

const list = command({
  meta: {
    name: "list",
    description:
      "List sectors: online (being sealed) by default, --offline for finalized and aborted ones; fetched and printed a page of 100 at a time (beyond one page, in store key order)",
  },
  args: {
    ...managerApiArgs,
    offline: { type: "boolean", description: "list finalized and aborted sectors instead" },
    miner: { type: "string", description: "only this miner actor id" },
  },
  examples: [
    "damocles util sealer sectors list --api 127.0.0.1:1789",
    "damocles util sealer sectors list --offline --miner 1000",
  ],
  async run({ args }) {
    const minerFilter = args.miner === undefined ? undefined : parseSectorArgs(args.miner, "0").Miner;
    const where = args.offline ? "offline" : "online";
    const offline = Boolean(args.offline);
    const shownCount = await withManager(args, async (c) => {
      // Pages of LIST_PAGE: a store of a million sectors streams out without one giant answer in memory
      // on either side. A store that fits in one page is printed sorted, as the unpaged listing was.
      let shown = 0;
      let after: SectorState["ID"] | undefined;
      for (let first = true; ; first = false) {
        const page = (await c.call(Venus.ListSectors, where, 0, after ?? null, LIST_PAGE)) ?? [];
        const last = page.length < LIST_PAGE;
        const rows = page.filter((s) => minerFilter === undefined || s.ID.Miner === minerFilter);
        if (first && last) rows.sort((a, b) => a.ID.Miner - b.ID.Miner || a.ID.Number - b.ID.Number);
        if (rows.length > 0) {
          const table = renderTable(
            listHeaders(offline),
            rows.map((s) => listRow(s, offline)),
          );
          // One header for the whole listing: later pages drop theirs.
          process.stdout.write(shown === 0 ? table : table.slice(table.indexOf("\n") + 1));
          shown += rows.length;
        }
        if (last) return shown;
        after = page[page.length - 1]!.ID;
      }
    });
    if (shownCount === 0) {
      process.stdout.write(`no ${where} sectors${minerFilter === undefined ? "" : ` of miner ${minerFilter}`}\n`);
      return;
    }
    process.stdout.write(`${shownCount} ${where} sector(s)\n`);
  },
});

/**
 * Sectors per Venus.ListSectors page of the listing: small enough that one call (about 1.4 KB a state,
 * validated on arrival) stays within a few milliseconds.
 */
export const LIST_PAGE = 100;

function listHeaders(offline: boolean): string[] {
  return [
    "Sector",
    "Size",
    "Kind",
    "Worker",
    "Latest",
    ...(offline ? ["Finalized", "Removed", "AbortReason"] : ["Message"]),
  ];
}

function listRow(s: SectorState, offline: boolean): string[] {
  const l = latest(s);
  const base = [sectorName(s.ID), sealProofInfo(s.SectorType).sizeName, kind(s), l.worker, l.change];
  return offline ? [...base, String(s.Finalized), String(s.Removed), s.AbortReason || "-"] : [...base, messages(s)];
}

const state = command({
  meta: { name: "state", description: "Show one sector's full state (online and offline records are searched)" },
  args: {
    ...managerApiArgs,
    miner: { type: "positional", description: "miner actor id", required: true },
    number: { type: "positional", description: "sector number", required: true },
  },
  examples: ["damocles util sealer sectors state 1000 5"],
  async run({ args }) {
    const sid = parseSectorArgs(args.miner, args.number);
    await withManager(args, async (c) => {
      for (const where of ["online", "offline"] as const) {
        const found = await c.call(Venus.FindSector, where, sid);
        if (found) {
          process.stdout.write(`${sectorName(sid)} (${where})\n${JSON.stringify(found, null, 2)}\n`);
          return;
        }
      }
      throw new CliError(`${sectorName(sid)} is not known to the manager (neither online nor offline)`);
    });
  },
});

const abort = command({
  meta: {
    name: "abort",
    description: "Abort a sector on the manager; its worker gets 'sector state not found' (11001) and drops it",
  },
  args: {
    ...managerApiArgs,
    miner: { type: "positional", description: "miner actor id", required: true },
    number: { type: "positional", description: "sector number", required: true },
    "really-do-it": { type: "boolean", description: "confirm: the sector's sealing work is lost" },
    reason: {
      type: "string",
      description: "recorded as the sector's AbortReason",
      default: "aborted via 'util sealer sectors abort'",
    },
  },
  examples: ["damocles util sealer sectors abort 1000 5 --really-do-it"],
  async run({ args }) {
    const sid = parseSectorArgs(args.miner, args.number);
    if (!args["really-do-it"]) {
      throw new CliError(
        `aborting ${sectorName(sid)} discards its sealing work; add --really-do-it to confirm (undo with 'util sealer sectors restore')`,
        2,
      );
    }
    await withManager(args, async (c) => {
      if (!(await c.call(Venus.FindSector, "online", sid))) {
        throw new CliError(`${sectorName(sid)} is not an online (sealing) sector; nothing to abort`);
      }
      await c.call(Venus.ReportAborted, sid, args.reason);
    });
    process.stdout.write(`${sectorName(sid)} aborted\n`);
  },
});

const restore = command({
  meta: { name: "restore", description: "Bring an aborted (or, with --force, finalized) sector back online" },
  args: {
    ...managerApiArgs,
    miner: { type: "positional", description: "miner actor id", required: true },
    number: { type: "positional", description: "sector number", required: true },
    force: { type: "boolean", description: "also restore a sector that was finalized normally" },
  },
  examples: ["damocles util sealer sectors restore 1000 5"],
  async run({ args }) {
    const sid = parseSectorArgs(args.miner, args.number);
    await withManager(args, (c) => c.call(Venus.RestoreSector, sid, Boolean(args.force)));
    process.stdout.write(`${sectorName(sid)} restored\n`);
  },
});

export const sectorsCommand = command({
  meta: {
    name: "sectors",
    description: "Sector states on the manager: list, state, abort, restore, unseal, rebuild",
  },
  subCommands: { list, state, abort, restore, unseal: unsealCommand, rebuild: rebuildCommand },
  examples: ["damocles util sealer sectors list", "damocles util sealer sectors state 1000 5"],
});

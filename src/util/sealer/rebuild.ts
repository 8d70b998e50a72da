import { command } from "../../core/cli/command.ts";
import { DamoclesRebuild, describeRebuildData, VenusRebuild } from "../../core/sector/api-rebuild.ts";
import { sameSector, sectorName } from "../../core/sector/id.ts";
import { managerApiArgs, parseSectorArgs, withManager } from "./client.ts";

/**
 * `util sealer sectors rebuild <miner> <number> [--pieces-available]` (the original's
 * utilSealerSectorsRebuildCmd): queue a rebuild of a proven sector whose replica was lost or corrupted. A
 * worker thread with plan = "rebuild" seals it again from its recorded ticket and pieces, checks the new
 * CommR against the chain and persists it; the sector index then points at the new replica.
 */
export const rebuildCommand = command({
  meta: {
    name: "rebuild",
    description: 'Queue a rebuild of a proven sector\'s lost or corrupt replica (plan = "rebuild" workers)',
  },
  args: {
    ...managerApiArgs,
    miner: { type: "positional", description: "miner actor id", required: true },
    number: { type: "positional", description: "sector number", required: true },
    "pieces-available": {
      type: "boolean",
      description: "an imported sector's deal pieces are in the piece store again (required to rebuild one)",
    },
  },
  examples: [
    "damocles util sealer sectors rebuild 1000 5",
    "damocles util sealer sectors rebuild t01000 7 --pieces-available",
  ],
  async run({ args }) {
    const sid = parseSectorArgs(args.miner, args.number);
    const name = sectorName(sid);
    await withManager(args, async (c) => {
      const queued = await c.call(VenusRebuild.SectorSetForRebuild, sid, {
        PiecesAvailable: Boolean(args["pieces-available"]),
      });
      const task = (await c.call(DamoclesRebuild.RebuildTasks)).find((t) => sameSector(t.Info.Sector.ID, sid));
      const what = task ? describeRebuildData(task.Info) : "CC";
      process.stdout.write(
        queued
          ? `${name} queued for rebuild (${what}); a worker thread with plan = "rebuild" takes it\n`
          : `${name} is already waiting for a rebuild (task ${task?.State ?? "unknown"}); nothing changed\n`,
      );
    });
  },
});

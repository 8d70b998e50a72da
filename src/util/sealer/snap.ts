import { CliError, command } from "../../core/cli/command.ts";
import { renderTable } from "../../core/cli/table.ts";
import { bitfieldNumbers, VenusSnapCli } from "../../core/sector/api-snap.ts";
import { sectorName } from "../../core/sector/index.ts";
import { managerApiArgs, parseSectorArgs, withManager } from "./client.ts";

/** `util sealer snap …`: SnapDeals candidates (CC sectors a snapup worker may fill with deals) and commitments. */

const minerArg = { type: "positional", description: "miner actor id (f0/t0 prefix allowed)", required: true } as const;

/** "1-3,7" for [1,2,3,7]. */
function ranges(numbers: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length; ) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(j === i ? String(numbers[i]) : `${numbers[i]}-${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

const fetch = command({
  meta: {
    name: "fetch",
    description:
      "Mark the miner's active CC sectors as snap candidates: one deadline, or every deadline that may change now",
  },
  args: {
    ...managerApiArgs,
    miner: minerArg,
    deadline: {
      type: "positional",
      description: "deadline index (default: every deadline not being proven now or next)",
      required: false,
    },
  },
  examples: ["damocles util sealer snap fetch 1000", "damocles util sealer snap fetch 1000 3 --api 127.0.0.1:1789"],
  async run({ args }) {
    const miner = parseSectorArgs(args.miner, "0").Miner;
    let deadline: number | null = null;
    if (args.deadline !== undefined) {
      if (!/^\d+$/.test(args.deadline) || !Number.isSafeInteger(Number(args.deadline)))
        throw new CliError(`<deadline>: expected a deadline index, got "${args.deadline}"`, 2);
      deadline = Number(args.deadline);
    }
    const r = await withManager(args, (c) => c.call(VenusSnapCli.SnapUpPreFetch, miner, deadline));
    const where = deadline === null ? "the mutable deadlines" : `deadline ${deadline}`;
    process.stdout.write(`miner ${miner}: ${r.Total} candidate sector(s) in ${where}, ${r.Diff} new\n`);
  },
});

const candidates = command({
  meta: { name: "candidates", description: "List the miner's snap candidates per deadline" },
  args: { ...managerApiArgs, miner: minerArg },
  examples: ["damocles util sealer snap candidates 1000"],
  async run({ args }) {
    const miner = parseSectorArgs(args.miner, "0").Miner;
    const all = await withManager(args, (c) => c.call(VenusSnapCli.SnapUpCandidates, miner));
    const rows = (all ?? []).flatMap((bf, dl) => {
      const numbers = bf ? bitfieldNumbers(bf) : [];
      return numbers.length > 0 ? [[dl, numbers.length, ranges(numbers)]] : [];
    });
    if (rows.length === 0) {
      process.stdout.write(
        `no snap candidates for miner ${miner}; mark some with 'damocles util sealer snap fetch ${miner}'\n`,
      );
      return;
    }
    process.stdout.write(renderTable(["Deadline", "Count", "Sectors"], rows));
    process.stdout.write(`${rows.reduce((n, r) => n + Number(r[1]), 0)} candidate(s)\n`);
  },
});

const cancel = command({
  meta: {
    name: "cancel",
    description: "Cancel a snap sector's commitment: its ProveReplicaUpdates is not sent (refused once it was)",
  },
  args: {
    ...managerApiArgs,
    miner: minerArg,
    number: { type: "positional", description: "sector number", required: true },
  },
  examples: ["damocles util sealer snap cancel 1000 5"],
  async run({ args }) {
    const sid = parseSectorArgs(args.miner, args.number);
    await withManager(args, (c) => c.call(VenusSnapCli.SnapUpCancelCommitment, sid));
    process.stdout.write(
      `${sectorName(sid)}: snap commitment cancelled ('util sealer sectors abort ${sid.Miner} ${sid.Number} --really-do-it' returns it to committed capacity)\n`,
    );
  },
});

export const snapCommand = command({
  meta: { name: "snap", description: "SnapDeals: mark CC sectors as candidates, list them, cancel a commitment" },
  subCommands: { fetch, candidates, cancel },
  examples: ["damocles util sealer snap fetch 1000", "damocles util sealer snap candidates 1000"],
});

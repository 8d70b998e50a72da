import { CliError, command } from "../../core/cli/command.ts";
import { renderTable } from "../../core/cli/table.ts";
import type { RpcClient } from "../../core/rpc/index.ts";
import { Damocles } from "../../core/sector/api.ts";
import { Proving } from "../../core/sector/api-proving.ts";
import { sectorSizeName } from "../../core/sector/index.ts";
import { managerApiArgs, parseSectorArgs, withManager } from "./client.ts";

/** `util sealer proving …`: WindowPoSt state of a miner, from the chain's records and the poster's. */

const args = {
  ...managerApiArgs,
  miner: { type: "string", description: "miner actor id (default: the only miner of the manager's chain)" },
} as const;

async function resolveMiner(client: RpcClient, text: string | undefined): Promise<number> {
  if (text !== undefined) return parseSectorArgs(text, "0").Miner;
  const head = await client.call(Damocles.ChainHead);
  if (head.Miners.length === 1) return head.Miners[0]!.Actor;
  throw new CliError(
    `--miner is required: the chain has ${head.Miners.length} miners (${head.Miners.map((m) => m.Actor).join(", ")})`,
    2,
  );
}

const epochs = (n: number, blockMs: number) => `${n} epochs (${((n * blockMs) / 1000).toFixed(0)}s)`;

const info = command({
  meta: { name: "info", description: "Proving period, current deadline, sector and fault counts, PoSt totals" },
  args,
  examples: [
    "damocles util sealer proving info",
    "damocles util sealer proving info --miner 1000 --api 127.0.0.1:1789",
  ],
  async run({ args: a }) {
    await withManager(a, async (c) => {
      const i = await c.call(Proving.Info, await resolveMiner(c, a.miner));
      const dl = i.current;
      const lines = [
        `Miner:               f0${i.actor} (${sectorSizeName(i.sectorSize)})`,
        `Current epoch:       ${dl.currentEpoch}`,
        `Proving period:      start ${dl.periodStart}, ${i.deadlines} deadlines x ${epochs(i.challengeWindow, i.blockTimeMs)}`,
        `Current deadline:    ${dl.index} (open ${dl.open}, close ${dl.close}, challenge ${dl.challenge})`,
        `Active sectors:      ${i.activeSectors}`,
        `Faulty sectors:      ${i.faultySectors}`,
        `WindowPoSt:          ${i.stats.windowPoStsVerified} verified, ${i.stats.windowPoStsRejected} rejected, ${i.stats.deadlinesMissed} deadline(s) missed`,
        `Faults:              ${i.stats.faultsDeclared} declared, ${i.stats.faultsDetected} detected, ${i.stats.recoveries} recovered`,
        `Blocks:              ${i.stats.blocksMined} mined, ${i.stats.winningPoStsRejected} rejected`,
        `Prover on this node: ${i.prover ?? "none (manager run without --poster)"}`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
  },
});

const deadlines = command({
  meta: {
    name: "deadlines",
    description: "Every deadline: partitions, sectors, faults, this period's proof and the last outcome",
  },
  args,
  examples: ["damocles util sealer proving deadlines --miner 1000"],
  async run({ args: a }) {
    await withManager(a, async (c) => {
      const rows = await c.call(Proving.Deadlines, await resolveMiner(c, a.miner));
      process.stdout.write(
        renderTable(
          ["Deadline", "Partitions", "Sectors", "Faults", "Open", "Proven", "LastOutcome", "Poster"],
          rows.map((r) => [
            r.index,
            r.partitions,
            r.sectors,
            r.faults,
            r.open,
            r.sectors === 0 ? "-" : r.proven ? "yes" : "no",
            r.last ? `${r.last.outcome} @${r.last.open}` : "-",
            r.poster
              ? `${r.poster.status}${r.poster.provingMs !== undefined ? ` ${(r.poster.provingMs / 1000).toFixed(1)}s` : ""}${r.poster.error ? ` (${r.poster.error})` : ""}`
              : "-",
          ]),
        ),
      );
    });
  },
});

const faults = command({
  meta: {
    name: "faults",
    description: "Faulty sectors: since when, declared by the poster or detected by a missed deadline, and why",
  },
  args,
  examples: ["damocles util sealer proving faults --miner 1000"],
  async run({ args: a }) {
    await withManager(a, async (c) => {
      const list = await c.call(Proving.Faults, await resolveMiner(c, a.miner));
      if (list.length === 0) {
        process.stdout.write("no faulty sectors\n");
        return;
      }
      process.stdout.write(
        renderTable(
          ["Sector", "Since", "Kind", "Reason"],
          list.map((f) => [f.number, f.since, f.kind, f.reason]),
        ),
      );
    });
  },
});

const check = command({
  meta: {
    name: "check",
    description:
      "Check that every sector of a deadline can be proven (files, sizes, readability; --slow: a vanilla proof)",
  },
  args: {
    ...args,
    deadline: { type: "positional", description: "deadline index", required: true },
    slow: { type: "boolean", description: "also generate a vanilla proof per sector (reads the challenged data)" },
    "only-bad": { type: "boolean", description: "list only sectors that failed the check" },
  },
  examples: [
    "damocles util sealer proving check 2",
    "damocles util sealer proving check 0 --slow --only-bad --miner 1000",
  ],
  async run({ args: a }) {
    const idx = Number(a.deadline);
    if (!/^\d+$/.test(a.deadline) || !Number.isSafeInteger(idx))
      throw new CliError(`<deadline>: expected a deadline index, got "${a.deadline}"`, 2);
    await withManager(a, async (c) => {
      const rows = await c.call(Proving.Check, await resolveMiner(c, a.miner), idx, a.slow === true);
      const shown = a["only-bad"] ? rows.filter((r) => !r.ok) : rows;
      process.stdout.write(
        renderTable(
          ["Partition", "Sector", "Status", "Faulty", "Reason"],
          shown.map((r) => [r.partition, r.number, r.ok ? "good" : "bad", r.faulty ? "yes" : "no", r.reason ?? ""]),
        ),
      );
      const bad = rows.filter((r) => !r.ok).length;
      process.stdout.write(`${rows.length} sector(s) checked in deadline ${idx}, ${bad} bad\n`);
      if (bad > 0) process.exitCode = 1;
    });
  },
});

export const provingCommand = command({
  meta: { name: "proving", description: "WindowPoSt: proving info, deadlines, faults and sector checks" },
  subCommands: { info, deadlines, faults, check },
  examples: [
    "damocles util sealer proving info",
    "damocles util sealer proving deadlines",
    "damocles util sealer proving check 1 --slow",
  ],
});

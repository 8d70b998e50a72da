import { CliError, command } from "../core/cli/command.ts";
import { formatAge, renderTable } from "../core/cli/table.ts";
import { RpcCallError, type RpcClient, RpcErrorCode } from "../core/rpc/index.ts";
import { type AllWdPoStJob, WdPoSt, type WdPoStJobBrief } from "../core/sector/api-wdpost.ts";
import { managerApiArgs, withManager } from "./sealer/client.ts";

/**
 * `util worker wdpost list | reset | remove | remove-all` (seed 002): the WindowPoSt jobs the manager's
 * worker-prover module hands to workers with plan = "wdpost".
 */

const NOT_SERVED =
  "the manager does not serve WdPoSt jobs: it runs without its worker-prover module (start it with: damocles manager run --poster --worker-prover)";

/** withManager, plus the one failure these commands have that the others do not. */
function withWdPoSt<T>(args: { api?: string; home?: string }, fn: (c: RpcClient) => Promise<T>): Promise<T> {
  return withManager(args, async (c) => {
    try {
      return await fn(c);
    } catch (err) {
      if (err instanceof RpcCallError && err.code === RpcErrorCode.MethodNotFound) throw new CliError(NOT_SERVED);
      throw err;
    }
  });
}

/** ReadyToRun / Running / Succeed / Failed, as the original's DisplayState. */
export function displayState(job: WdPoStJobBrief): string {
  switch (job.State) {
    case "ready2run":
      return "ReadyToRun";
    case "running":
      return "Running";
    case "finished":
      if (job.ErrorReason !== "") return "Failed";
      return job.Faults > 0 ? `Succeed(${job.Faults} faults)` : "Succeed";
  }
}

const succeeded = (j: WdPoStJobBrief) => j.State === "finished" && j.ErrorReason === "";

function dateTime(unixSec: number): string {
  if (unixSec === 0) return "-";
  const d = new Date(unixSec * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function elapsed(j: WdPoStJobBrief, nowSec: number): string {
  if (j.StartedAt === 0) return "-";
  if (j.FinishedAt === 0) return formatAge(Math.max(0, nowSec - j.StartedAt));
  return `${formatAge(Math.max(0, j.FinishedAt - j.StartedAt))}(done)`;
}

function heartbeat(j: WdPoStJobBrief, nowSec: number): string {
  return j.State === "running" && j.HeartbeatAt > 0 ? `${formatAge(Math.max(0, nowSec - j.HeartbeatAt))} ago` : "-";
}

/** The `list` table; `nowSec` is a parameter so tests can render a fixed moment. */
export function renderWdPoStJobs(all: AllWdPoStJob, opts: { all: boolean; detail: boolean; nowSec: number }): string {
  const jobs = (all.Jobs ?? []).filter((j) => opts.all || !succeeded(j));
  const hidden = (all.Jobs ?? []).length - jobs.length;
  const footer = hidden > 0 ? `${hidden} succeeded job(s) not shown; --all shows them\n` : "";
  if (jobs.length === 0) return `no WindowPoSt jobs${hidden > 0 ? " to show" : ""}\n${footer}`;
  const tryNum = (j: WdPoStJobBrief) => `${j.TryNum}${j.TryNum >= all.MaxTry ? "(Max)" : ""}`;
  const partitions = (j: WdPoStJobBrief) => (j.Partitions ?? []).join(",") || "-";
  const table = opts.detail
    ? renderTable(
        [
          "JobID",
          "MinerID",
          "DDL",
          "Partitions",
          "Sectors",
          "Faults",
          "Worker",
          "State",
          "Try",
          "CreateAt",
          "StartedAt",
          "HeartbeatAt",
          "FinishedAt",
          "UpdatedAt",
          "Error",
        ],
        jobs.map((j) => [
          j.Id,
          j.Input.MinerId,
          j.DeadlineIdx,
          partitions(j),
          j.Sectors,
          j.Faults,
          j.WorkerName || "-",
          displayState(j),
          tryNum(j),
          dateTime(j.CreatedAt),
          dateTime(j.StartedAt),
          dateTime(j.HeartbeatAt),
          dateTime(j.FinishedAt),
          dateTime(j.UpdatedAt),
          j.ErrorReason || "-",
        ]),
      )
    : renderTable(
        [
          "JobID",
          "MinerID",
          "DDL",
          "Partitions",
          "Worker",
          "State",
          "Try",
          "CreateAt",
          "Elapsed",
          "Heartbeat",
          "Error",
        ],
        jobs.map((j) => [
          j.Id,
          j.Input.MinerId,
          j.DeadlineIdx,
          partitions(j),
          j.WorkerName || "-",
          displayState(j),
          tryNum(j),
          dateTime(j.CreatedAt),
          elapsed(j, opts.nowSec),
          heartbeat(j, opts.nowSec),
          j.ErrorReason || "-",
        ]),
      );
  return table + footer;
}

const list = command({
  meta: {
    name: "list",
    description: "WindowPoSt jobs of the worker-prover: unfinished and failed ones (--all: succeeded too)",
  },
  args: {
    ...managerApiArgs,
    all: { type: "boolean", description: "also show jobs that succeeded" },
    detail: { type: "boolean", description: "more columns: sector and fault counts, every timestamp" },
  },
  examples: [
    "damocles util worker wdpost list",
    "damocles util worker wdpost list --all",
    "damocles util worker wdpost list --all --detail",
  ],
  async run({ args }) {
    const all = await withWdPoSt(args, (c) => c.call(WdPoSt.AllJobs));
    process.stdout.write(
      renderWdPoStJobs(all, {
        all: args.all === true,
        detail: args.detail === true,
        nowSec: Math.floor(Date.now() / 1000),
      }),
    );
  },
});

const ids = { ids: { type: "positional", description: "job id(s), as `list` shows them", required: true } } as const;

/** Applies one call per job id; reports each, and fails naming the ids that failed. */
async function eachJob(
  args: { api?: string; home?: string; _: string[] },
  verb: string,
  call: (c: RpcClient, id: string) => Promise<unknown>,
): Promise<void> {
  const wanted = [...new Set(args._.map((s) => s.trim()).filter(Boolean))];
  if (wanted.length === 0)
    throw new CliError(`${verb}: give at least one job id (see: damocles util worker wdpost list --all)`, 2);
  const failed: string[] = [];
  await withWdPoSt(args, async (c) => {
    for (const id of wanted) {
      try {
        await call(c, id);
        process.stdout.write(`wdpost job ${id} ${verb}\n`);
      } catch (err) {
        if (!(err instanceof RpcCallError) || err.code === RpcErrorCode.MethodNotFound) throw err;
        process.stderr.write(`${id}: ${err.rpcMessage.replace(/^jobID: /, "")}\n`);
        failed.push(id);
      }
    }
  });
  if (failed.length > 0)
    throw new CliError(`${failed.length} of ${wanted.length} job(s) not ${verb}: ${failed.join(", ")}`);
}

const reset = command({
  meta: {
    name: "reset",
    description: "Reset jobs to ReadyToRun with their tries at 0, so a worker picks them up again",
  },
  args: { ...managerApiArgs, ...ids },
  examples: [
    "damocles util worker wdpost reset gbCVH4TUgEf",
    "damocles util worker wdpost reset gbCVH4TUgEf 3FgfEnvrub1",
  ],
  async run({ args }) {
    await eachJob(args, "reset", (c, id) => c.call(WdPoSt.ResetJob, id));
  },
});

const remove = command({
  meta: { name: "remove", description: "Delete jobs; a poster still waiting for one creates it again (fresh tries)" },
  args: { ...managerApiArgs, ...ids },
  examples: [
    "damocles util worker wdpost remove gbCVH4TUgEf",
    "damocles util worker wdpost remove gbCVH4TUgEf 3FgfEnvrub1",
  ],
  async run({ args }) {
    await eachJob(args, "removed", (c, id) => c.call(WdPoSt.RemoveJob, id));
  },
});

const removeAll = command({
  meta: { name: "remove-all", description: "Delete every WindowPoSt job (needs --really-do-it)" },
  args: { ...managerApiArgs, "really-do-it": { type: "boolean", description: "actually delete them" } },
  examples: ["damocles util worker wdpost remove-all --really-do-it"],
  async run({ args }) {
    if (!args["really-do-it"]) {
      throw new CliError(
        "remove-all deletes every WindowPoSt job, and nothing was deleted: pass --really-do-it to delete them",
        2,
      );
    }
    await withWdPoSt(args, async (c) => {
      const all = (await c.call(WdPoSt.AllJobs)).Jobs ?? [];
      for (const j of all) {
        try {
          await c.call(WdPoSt.RemoveJob, j.Id);
        } catch (err) {
          // Removed meanwhile (lifetime cleanup, another operator): that is what we wanted.
          if (err instanceof RpcCallError && err.code === RpcErrorCode.InvalidParams) continue;
          throw err;
        }
        process.stdout.write(`wdpost job ${j.Id} removed\n`);
      }
      process.stdout.write(`${all.length} WindowPoSt job(s) removed\n`);
    });
  },
});

export const wdpostCommand = command({
  meta: { name: "wdpost", description: "WindowPoSt jobs handed to workers (manager run --worker-prover)" },
  subCommands: { list, reset, remove, "remove-all": removeAll },
  examples: [
    "damocles util worker wdpost list",
    "damocles util worker wdpost reset gbCVH4TUgEf",
    "damocles util worker wdpost remove-all --really-do-it",
  ],
});

import { CliError, command } from "../core/cli/command.ts";
import { renderThreads } from "../core/cli/threads.ts";
import { withWorkerClient } from "../core/rpc/worker-client.ts";
import { Venus } from "../core/sector/api.ts";
import { VenusWorker } from "../core/sector/api-worker.ts";
import { managerApiArgs, managerToken, withManager } from "./sealer/client.ts";

/**
 * `util worker info | pause | resume` (seed 004): the manager finds a worker by the name it pings with
 * (its Dest), or takes an address directly, then calls that worker's VenusWorker API.
 */
async function resolveWorker(args: { api?: string; home?: string }, nameOrAddr: string): Promise<string> {
  const ping = await withManager(args, (c) => c.call(Venus.WorkerGetPingInfo, nameOrAddr)).catch(() => null);
  if (ping) return ping.Info.Dest;
  if (/^[^\s:]+:\d+$/.test(nameOrAddr)) return nameOrAddr;
  if (/^[\w.-]+$/.test(nameOrAddr)) return `${nameOrAddr}:17890`;
  throw new CliError(`no worker named "${nameOrAddr}" has pinged the manager, and it is not a host[:port] address`, 2);
}

const worker = {
  worker: { type: "positional", description: "worker name (as in `util worker list`) or host[:port]", required: true },
} as const;
const index = { index: { type: "positional", description: "sealing thread index", required: true } } as const;

function parseIndex(text: string): number {
  if (!/^\d+$/.test(text)) throw new CliError(`index: expected a thread number, got "${text}"`, 2);
  return Number(text);
}

export const info = command({
  meta: { name: "info", description: "Sealing threads of one worker, fetched through its RPC" },
  args: { ...managerApiArgs, ...worker },
  examples: ["damocles util worker info 127.0.0.1", "damocles util worker info worker-1"],
  async run({ args }) {
    const addr = await resolveWorker(args, args.worker);
    const threads = await withWorkerClient(addr, managerToken(args), (c) => c.call(VenusWorker.WorkerList));
    process.stdout.write(renderThreads(threads));
  },
});

export const pause = command({
  meta: { name: "pause", description: "Pause a sealing thread of a worker" },
  args: { ...managerApiArgs, ...worker, ...index },
  examples: ["damocles util worker pause 127.0.0.1 0"],
  async run({ args }) {
    const addr = await resolveWorker(args, args.worker);
    const i = parseIndex(args.index);
    const ok = await withWorkerClient(addr, managerToken(args), (c) => c.call(VenusWorker.WorkerPause, i));
    process.stdout.write(ok ? `paused thread #${i} of ${addr}\n` : `thread #${i} of ${addr} was already paused\n`);
  },
});

export const resume = command({
  meta: { name: "resume", description: "Resume a paused sealing thread of a worker, optionally at another state" },
  args: {
    ...managerApiArgs,
    ...worker,
    ...index,
    state: { type: "positional", description: "next state (e.g. Aborted)", required: false },
  },
  examples: ["damocles util worker resume 127.0.0.1 0", "damocles util worker resume worker-1 2 Aborted"],
  async run({ args }) {
    const addr = await resolveWorker(args, args.worker);
    const i = parseIndex(args.index);
    const ok = await withWorkerClient(addr, managerToken(args), (c) =>
      c.call(VenusWorker.WorkerResume, i, args.state ?? null),
    );
    process.stdout.write(
      ok
        ? `resumed thread #${i} of ${addr}${args.state ? ` at ${args.state}` : ""}\n`
        : `thread #${i} of ${addr} was not paused\n`,
    );
  },
});

import { cliToken } from "../core/auth/index.ts";
import { CliError, command } from "../core/cli/command.ts";
import { renderTable } from "../core/cli/table.ts";
import { renderThreads } from "../core/cli/threads.ts";
import { readConfigFile } from "../core/config/index.ts";
import { describeMemoryPolicy } from "../core/proofs/index.ts";
import type { RpcClient } from "../core/rpc/client.ts";
import { RpcCallError, RpcErrorCode } from "../core/rpc/errors.ts";
import { withWorkerClient } from "../core/rpc/worker-client.ts";
import { VenusWorker, type WorkerProcessorInfo } from "../core/sector/api-worker.ts";
import { workerToken } from "./auth.ts";

/**
 * Local management of a running worker over its VenusWorker RPC (seed 004): list, pause, resume, and the
 * dump switch for processors that print garbage (seed 000).
 */
const target = {
  host: {
    type: "string",
    alias: "H",
    description: "worker RPC address host:port (default from -c, else 127.0.0.1:17890)",
  },
  config: { type: "string", alias: "c", description: "worker config file, to find its rpc_server and token" },
  token: {
    type: "string",
    description: "API token to send (default: $DAMOCLES_TOKEN, else the worker's sector_manager.token from -c)",
  },
} as const;

/** Where the worker serves and which token to present: flags first, then the worker's config file. */
async function workerTarget(args: {
  host?: string;
  config?: string;
  token?: string;
}): Promise<{ addr: string; token: string | undefined }> {
  const file = args.config ? (await readConfigFile("worker", args.config)).value : undefined;
  const token = cliToken({ token: args.token }) ?? (file ? workerToken(file) : undefined);
  if (args.host) return { addr: args.host, token };
  if (file) {
    const host = file.worker.rpc_server.host === "0.0.0.0" ? "127.0.0.1" : file.worker.rpc_server.host;
    return { addr: `${host}:${file.worker.rpc_server.port}`, token };
  }
  return { addr: "127.0.0.1:17890", token };
}

async function withWorker<T>(
  args: { host?: string; config?: string; token?: string },
  fn: (c: RpcClient) => Promise<T>,
): Promise<T> {
  const { addr, token } = await workerTarget(args);
  return withWorkerClient(addr, token, fn);
}

const index = {
  index: { type: "string", description: "sealing thread index (the # column of `worker list`)", required: true },
} as const;

function parseIndex(text: string): number {
  if (!/^\d+$/.test(text)) throw new CliError(`--index: expected a thread number, got "${text}"`, 2);
  return Number(text);
}

/** The worker's processor children, or undefined from a worker without the call (the original's). */
async function processorsOf(c: RpcClient): Promise<WorkerProcessorInfo[] | undefined> {
  try {
    return await c.call(VenusWorker.ProcessorList);
  } catch (err) {
    if (err instanceof RpcCallError && err.code === RpcErrorCode.MethodNotFound) return undefined;
    throw err;
  }
}

export function renderProcessors(processors: readonly WorkerProcessorInfo[]): string {
  return renderTable(
    ["Processor", "PID", "State", "Restarts", "MemoryPolicy", "Placement"],
    processors.map((p) => [
      `${p.stage}#${p.index}`,
      p.pid ?? "-",
      p.state,
      p.restarts,
      p.memory_policy ? describeMemoryPolicy(p.memory_policy) : "-",
      p.placement,
    ]),
  );
}

const list = command({
  meta: {
    name: "list",
    description:
      "Sealing threads of a running worker (sector, state, stage, pause, last error), then its processor children (pid, memory policy, placement)",
  },
  args: { ...target },
  examples: ["damocles worker list", "damocles worker -c worker.toml list", "damocles worker list -H 10.0.0.5:17890"],
  async run({ args }) {
    const [threads, processors] = await withWorker(args, (c) =>
      Promise.all([c.call(VenusWorker.WorkerList), processorsOf(c)]),
    );
    process.stdout.write(threads.length === 0 ? "this worker has no sealing threads\n" : renderThreads(threads));
    if (processors && processors.length > 0) process.stdout.write(`\n${renderProcessors(processors)}`);
  },
});

const pause = command({
  meta: { name: "pause", description: "Pause a sealing thread (its sector keeps its state)" },
  args: { ...target, ...index },
  examples: ["damocles worker pause --index 0"],
  async run({ args }) {
    const i = parseIndex(args.index);
    const changed = await withWorker(args, (c) => c.call(VenusWorker.WorkerPause, i));
    process.stdout.write(changed ? `thread #${i} paused\n` : `thread #${i} was already paused\n`);
  },
});

const resume = command({
  meta: {
    name: "resume",
    description: "Resume a paused sealing thread, optionally at another state (e.g. Aborted, TreeDBuilt)",
  },
  args: {
    ...target,
    ...index,
    state: { type: "string", description: "state to continue from instead of the saved one" },
  },
  examples: ["damocles worker resume --index 0", "damocles worker resume --index 1 --state Aborted"],
  async run({ args }) {
    const i = parseIndex(args.index);
    const changed = await withWorker(args, (c) => c.call(VenusWorker.WorkerResume, i, args.state ?? null));
    process.stdout.write(
      changed ? `thread #${i} resumed${args.state ? ` at ${args.state}` : ""}\n` : `thread #${i} was not paused\n`,
    );
  },
});

const pid = {
  child_pid: {
    type: "string",
    description: "pid of the external processor child (see the worker log)",
    required: true,
  },
} as const;

function parsePid(text: string): number {
  if (!/^\d+$/.test(text)) throw new CliError(`--child_pid: expected a process id, got "${text}"`, 2);
  return Number(text);
}

const enableDump = command({
  meta: {
    name: "enable-dump",
    alias: "enable_dump",
    description: "Write every non-protocol line a processor child prints to a file in DIR",
  },
  args: {
    ...target,
    ...pid,
    dump_dir: {
      type: "string",
      description: "directory for ext-processor-err-resp-<pid>-<uuid>.json files",
      required: true,
    },
  },
  examples: ["damocles worker enable-dump --child_pid 24764 --dump_dir /tmp/dumps"],
  async run({ args }) {
    const p = parsePid(args.child_pid);
    await withWorker(args, (c) => c.call(VenusWorker.WorkerSetEnv, `DUMP_ERR_RESP_${p}`, args.dump_dir));
    process.stdout.write(`dumping unparsable output of child ${p} into ${args.dump_dir}\n`);
  },
});

const disableDump = command({
  meta: {
    name: "disable-dump",
    alias: "disable_dump",
    description: "Stop dumping a processor child's unparsable output",
  },
  args: { ...target, ...pid },
  examples: ["damocles worker disable-dump --child_pid 24764"],
  async run({ args }) {
    const p = parsePid(args.child_pid);
    await withWorker(args, (c) => c.call(VenusWorker.WorkerRemoveEnv, `DUMP_ERR_RESP_${p}`));
    process.stdout.write(`dump of child ${p} disabled\n`);
  },
});

export const manageCommands = { list, pause, resume, "enable-dump": enableDump, "disable-dump": disableDump };

import { CliError, command } from "../core/cli/command.ts";
import { ConfigError } from "../core/config/index.ts";
import { logger } from "../core/log/index.ts";
import { raiseOpenFilesLimit } from "../core/proofs/index.ts";
import { startWorker, WorkerStartError } from "./daemon.ts";

export const runCommand = command({
  meta: { name: "run", description: "Run the worker daemon: sealing threads, external processors, VenusWorker RPC" },
  args: {
    config: { type: "string", alias: "c", description: "worker config file (env DAMOCLES_WORKER_CONFIG)" },
  },
  examples: ["damocles worker run -c /etc/damocles/worker.toml"],
  async run({ args }) {
    const path = args.config ?? process.env.DAMOCLES_WORKER_CONFIG;
    if (!path) throw new CliError("no config file: pass -c worker.toml (or set DAMOCLES_WORKER_CONFIG)", 2);
    raiseOpenFilesLimit(logger);
    let worker: Awaited<ReturnType<typeof startWorker>>;
    try {
      worker = await startWorker(path);
    } catch (err) {
      if (err instanceof ConfigError || err instanceof WorkerStartError) throw new CliError(err.message);
      throw err;
    }
    await new Promise<void>((resolve) => {
      const stop = (sig: string) => {
        logger.info(`${sig}: stopping sealing threads and processors (sector state is saved)`);
        void worker.stop().then(resolve);
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });
  },
});

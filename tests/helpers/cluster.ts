import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { createToken, readAuthSecret } from "../../src/core/auth/index.ts";
import { ENTRY, runCli } from "./cli.ts";

/**
 * Real daemons for integration tests: a devnet manager and workers as child processes over real sockets.
 * Everything waits on conditions (a file, an answer), never on fixed sleeps.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 60_000,
  every = 100,
): Promise<T> {
  const end = Date.now() + ms;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > end)
      throw new Error(
        `timed out after ${ms} ms waiting for ${what}${lastErr ? ` (last error: ${(lastErr as Error).message})` : ""}`,
      );
    await Bun.sleep(every);
  }
}

export interface Daemon {
  proc: Subprocess;
  log: string;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

function spawnDaemon(args: string[], logFile: string, env: Record<string, string> = {}): Daemon {
  const fd = openSync(logFile, "a");
  const proc = Bun.spawn([process.execPath, ENTRY, ...args], {
    stdout: fd,
    stderr: fd,
    env: { ...process.env, NO_COLOR: "1", ...env },
  });
  return {
    proc,
    log: logFile,
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      return proc.exited;
    },
  };
}

export interface ManagerHandle extends Daemon {
  home: string;
  api: string;
  /** The admin token `manager init` wrote into the home (CLIs given --home read it themselves). */
  token: string;
  /** A token with write permission, for workers' sector_manager.token. */
  workerToken: string;
}

/** `manager init` + `manager run` on a free port; `configure` may edit sector-manager.cfg first. */
export async function startManager(
  home: string,
  configure?: (cfg: string) => string,
  runArgs: string[] = [],
): Promise<ManagerHandle> {
  if (!existsSync(join(home, "sector-manager.cfg"))) {
    const init = await runCli(["manager", "init", "--home", home, "--actor", "1000", "--sector-size", "2KiB"]);
    if (init.code !== 0) throw new Error(`manager init failed: ${init.stderr}`);
    if (configure) {
      const path = join(home, "sector-manager.cfg");
      writeFileSync(path, configure(readFileSync(path, "utf8")));
    }
  }
  const apiFile = join(home, "api");
  const d = spawnDaemon(
    ["manager", "run", "--home", home, "--listen", "127.0.0.1:0", ...runArgs],
    join(home, "manager.log"),
  );
  const api = await until(
    "the manager's api file",
    () => (existsSync(apiFile) ? readFileSync(apiFile, "utf8").trim() || undefined : undefined),
    60_000,
  );
  await until(
    "the manager's /healthcheck",
    async () => (await fetch(`http://${api}/healthcheck`)).ok || undefined,
    30_000,
  );
  const token = readFileSync(join(home, "token"), "utf8").trim();
  const workerToken = await createToken(readAuthSecret(home)!, { name: "test-worker", perm: "write" });
  return { ...d, home, api, token, workerToken };
}

export interface WorkerHandle extends Daemon {
  config: string;
}

/** Writes worker.toml into dir and runs `worker run -c` on it. */
export function startWorker(dir: string, toml: string, env: Record<string, string> = {}): WorkerHandle {
  mkdirSync(dir, { recursive: true });
  const config = join(dir, "worker.toml");
  writeFileSync(config, toml);
  return { ...spawnDaemon(["worker", "run", "-c", config], join(dir, "worker.log"), env), config };
}

export function logTail(file: string, lines = 40): string {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").slice(-lines).join("\n") : "(no log)";
}

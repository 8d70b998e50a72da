import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import * as v from "valibot";
import { CliError, command } from "../../core/cli/command.ts";
import { ConfigError } from "../../core/config/diagnostics.ts";
import { parseListenAddr } from "../../core/config/fields.ts";
import { DevnetSchema } from "../../core/config/manager.ts";
import { expandHome } from "../../core/config/manager-home.ts";
import { childLogger } from "../../core/log/index.ts";
import { DEVNET_CONFIG_FILE, parseDevnetConfig } from "./config-file.ts";
import { startDevnetNode } from "./start.ts";

const log = childLogger("devnet");

const runCommand = command({
  meta: {
    name: "run",
    description: "Run the devnet as a node: the Filecoin node API at /rpc/v1 (like Lotus), tokens from the home",
  },
  args: {
    home: {
      type: "string",
      description: "the devnet's home: its chain (damocles.db), auth-secret and token",
      required: true,
    },
    listen: { type: "string", description: "address to serve on (port 0: any free port)", default: "127.0.0.1:1234" },
    config: {
      type: "string",
      description: `devnet settings, the keys of [Common.Devnet] at the top level (default: <home>/${DEVNET_CONFIG_FILE} if it exists)`,
    },
  },
  examples: [
    "damocles devnet run --home ~/.damocles-devnet --listen 127.0.0.1:1234",
    "damocles devnet run --home /srv/devnet --config devnet.toml --listen :1234",
  ],
  async run({ args }) {
    const home = resolve(expandHome(args.home));
    const listen = parseListenAddr(args.listen);
    if (!listen) throw new CliError(`--listen: expected host:port or :port, got "${args.listen}"`, 2);
    const settings = await readSettings(home, args.config);
    let node: Awaited<ReturnType<typeof startDevnetNode>>;
    try {
      node = await startDevnetNode({ home, settings, hostname: listen.host, port: listen.port });
    } catch (err) {
      if ((err as { code?: string }).code === "EADDRINUSE")
        throw new CliError(`cannot listen on ${args.listen}: the address is in use`);
      throw new CliError((err as Error).message);
    }
    await new Promise<void>((done) => {
      const shutdown = (signal: string) => {
        log.info(`${signal} received, stopping`);
        void node.stop().finally(done);
      };
      process.once("SIGINT", () => shutdown("SIGINT"));
      process.once("SIGTERM", () => shutdown("SIGTERM"));
    });
  },
});

/** --config, else <home>/devnet.toml, else the defaults (a devnet without miners). */
async function readSettings(home: string, config: string | undefined) {
  const path = config ? resolve(expandHome(config)) : join(home, DEVNET_CONFIG_FILE);
  if (!existsSync(path)) {
    if (config) throw new CliError(`--config ${config}: file not found`);
    log.info(`no ${path}: default devnet settings, no miners`);
    return v.parse(DevnetSchema, {});
  }
  try {
    const loaded = parseDevnetConfig(await Bun.file(path).text(), path);
    for (const w of loaded.warnings) log.warn(w);
    return loaded.value;
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
}

export const devnetCommand = command({
  meta: { name: "devnet", description: "The embedded verifying devnet as a standalone node (Filecoin node API)" },
  subCommands: { run: runCommand },
  examples: ["damocles devnet run --home ~/.damocles-devnet --listen 127.0.0.1:1234"],
});

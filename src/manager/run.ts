import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ensureAuth, openAuthenticator, secretAuthenticator } from "../core/auth/index.ts";
import { CliError, command } from "../core/cli/command.ts";
import { ConfigError, loadManagerConfig, parseListenAddr } from "../core/config/index.ts";
import { API_FILE, expandHome, MANAGER_CONFIG_FILE, resolveManagerHome } from "../core/config/manager-home.ts";
import { childLogger } from "../core/log/index.ts";
import { raiseOpenFilesLimit } from "../core/proofs/index.ts";
import { LotusChainError } from "./chain/lotus/errors.ts";
import { startManager } from "./daemon.ts";
import { PROXY_ADDR_FORMS, parseProxyAddr } from "./proxy/addr.ts";
import { ProxySourceError } from "./proxy/remote-chain.ts";

const log = childLogger("manager");

/** Flags `manager run` and `poster run` share (each adds its own home, listen, poster and proxy). */
export const sharedDaemonArgs = {
  "conf-dir": {
    type: "string",
    description:
      "read sector-manager.cfg / ext-prover.cfg from this directory instead of the home (env DAMOCLES_CONF_DIR)",
  },
  miner: {
    type: "boolean",
    description: "enable the WinningPoSt (block) module for [[Miners]] with Proof.Enabled = true",
  },
  warmup: {
    type: "boolean",
    description: "with --miner, run one WinningPoSt at start (--no-warmup to skip)",
    default: true,
  },
  "worker-prover": {
    type: "boolean",
    description: 'hand WindowPoSt jobs to workers with plan = "wdpost" (Venus.WdPoSt* API)',
  },
  "ext-prover": {
    type: "boolean",
    description: "run WindowPoSt/WinningPoSt in processor children from ext-prover.cfg",
  },
  "proxy-sector-indexer-off": {
    type: "boolean",
    description: "with --proxy, locate sectors with this node's own SectorIndexer",
  },
  "proxy-token": {
    type: "string",
    description: "with --proxy, a token of the source manager with sign permission (default: $DAMOCLES_TOKEN)",
  },
  auth: {
    type: "boolean",
    description:
      "require API tokens on /rpc/v0 and /piecestore/ (default); --no-auth serves everyone, only for a private network",
    default: true,
  },
} as const;

/** The shared flags as runDaemon options. */
export function sharedDaemonOptions(args: {
  "conf-dir"?: string;
  miner?: boolean;
  warmup?: boolean;
  "worker-prover"?: boolean;
  "ext-prover"?: boolean;
  "proxy-sector-indexer-off"?: boolean;
  "proxy-token"?: string;
  auth?: boolean;
}) {
  return {
    confDir: args["conf-dir"],
    miner: args.miner,
    warmup: args.warmup,
    workerProver: args["worker-prover"],
    extProver: args["ext-prover"],
    proxySectorIndexerOff: args["proxy-sector-indexer-off"],
    proxyToken: args["proxy-token"],
    noAuth: args.auth === false,
  };
}

export const runCommand = command({
  meta: { name: "run", description: "Run the sector manager daemon (JSON-RPC at /rpc/v0, /healthcheck, /metrics)" },
  args: {
    home: { type: "string", description: "manager home directory (default ~/.damocles-manager; env DAMOCLES_PATH)" },
    listen: { type: "string", description: "address to serve on", default: ":1789" },
    poster: { type: "boolean", description: "enable the WindowPoSt module (prove every deadline of every [[Miners]])" },
    proxy: {
      type: "string",
      description:
        "proxy node: use the manager at ip:port as the chain and sector-index source; this node proves, it does not seal",
    },
    ...sharedDaemonArgs,
  },
  examples: [
    "damocles manager run --home ~/.damocles-manager",
    "damocles manager run --home /srv/dm --listen 127.0.0.1:1789",
    "damocles manager run --home ~/.damocles-poster --conf-dir ~/.damocles-manager --listen :2789 --poster --proxy 127.0.0.1:1789",
  ],
  async run({ args }) {
    await runDaemon({
      ...sharedDaemonOptions(args),
      home: resolveManagerHome(args.home),
      listen: args.listen,
      poster: args.poster,
      proxy: args.proxy,
    });
  },
});

/** The flags `manager run` and `poster run` share, after each resolved its own defaults. */
export interface DaemonArgs {
  home: string;
  /** --conf-dir as given (env fallbacks are applied here). */
  confDir?: string;
  listen: string;
  poster?: boolean;
  miner?: boolean;
  warmup?: boolean;
  workerProver?: boolean;
  extProver?: boolean;
  /** --proxy as given: with it, a proxy node instead of a devnet manager. */
  proxy?: string;
  proxySectorIndexerOff?: boolean;
  /** --proxy-token as given (else $DAMOCLES_TOKEN). */
  proxyToken?: string;
  /** --no-auth: every caller may do everything. */
  noAuth?: boolean;
}

/** Validates the flags, loads the config, starts a manager or a proxy node, writes <home>/api and runs until a signal. */
export async function runDaemon(args: DaemonArgs): Promise<void> {
  const home = args.home;
  const confDirArg =
    args.confDir ??
    process.env.DAMOCLES_CONF_DIR ??
    process.env.VENUS_SECTOR_MANAGER_CONF_DIR ??
    process.env.VSM_CONF_DIR;
  const confDir = confDirArg ? resolve(expandHome(confDirArg)) : home;
  let source: string | undefined;
  if (args.proxy !== undefined) {
    source = parseProxyAddr(args.proxy);
    if (!source)
      throw new CliError(`--proxy: expected the source manager as ${PROXY_ADDR_FORMS}, got "${args.proxy}"`, 2);
  }
  const cfgPath = join(confDir, MANAGER_CONFIG_FILE);
  if (!existsSync(cfgPath)) {
    throw new CliError(
      `${cfgPath} does not exist; create it with: damocles manager init --home ${home}` +
        (source ? `, or share the source manager's with --conf-dir <its home>` : ""),
    );
  }
  const listen = parseListenAddr(args.listen);
  if (!listen) throw new CliError(`--listen: expected host:port or :port, got "${args.listen}"`, 2);
  if (args.workerProver && args.extProver) {
    throw new CliError("--worker-prover and --ext-prover are mutually exclusive: choose where WindowPoSt runs", 2);
  }
  if (args.proxySectorIndexerOff && !source) log.warn("--proxy-sector-indexer-off has no effect without --proxy");
  if (args.workerProver && !args.poster)
    log.warn("--worker-prover without --poster: jobs are served, but this manager creates none");

  let loaded: Awaited<ReturnType<typeof loadManagerConfig>>;
  try {
    loaded = await loadManagerConfig(cfgPath);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw new CliError((err as Error).message);
  }
  for (const w of loaded.warnings) log.warn(`${w.file}${w.line ? `:${w.line}` : ""}: ${w.path}: ${w.message}`);

  raiseOpenFilesLimit(log);
  const auth = await nodeAuth(home, args.noAuth === true);
  // A bug in one background task must not take the cluster's source of truth down with it.
  process.on("unhandledRejection", (err) => log.error("unhandled rejection (the daemon keeps running):", err));

  const proving = {
    poster: args.poster,
    miner: args.miner,
    warmup: args.warmup,
    workerProver: args.workerProver,
    extProver: args.extProver,
  };
  let daemon: { port: number; stop(): Promise<void> };
  try {
    if (source) {
      mkdirSync(home, { recursive: true });
      const { startProxyManager } = await import("./proxy/node.ts");
      daemon = await startProxyManager({
        home,
        confDir,
        config: loaded.value,
        hostname: listen.host,
        port: listen.port,
        source,
        sourceToken: args.proxyToken ?? process.env.DAMOCLES_TOKEN,
        auth,
        ownSectorIndexer: args.proxySectorIndexerOff,
        proving,
      });
    } else {
      daemon = await startManager({
        home,
        confDir,
        config: loaded.value,
        hostname: listen.host,
        port: listen.port,
        proving,
        auth,
      });
    }
  } catch (err) {
    if (err instanceof ProxySourceError || err instanceof LotusChainError) throw new CliError(err.message);
    const code = (err as { code?: string }).code;
    if (code === "EADDRINUSE")
      throw new CliError(`cannot listen on ${args.listen}: the address is in use (another manager running?)`);
    throw err;
  }
  // Like lotus' api file: CLIs given only --home find the daemon here. Removed on a clean stop.
  const apiFile = join(home, API_FILE);
  const apiHost = listen.host === "0.0.0.0" || listen.host === "::" ? "127.0.0.1" : listen.host;
  writeFileSync(apiFile, `${apiHost.includes(":") ? `[${apiHost}]` : apiHost}:${daemon.port}\n`);
  await new Promise<void>((done) => {
    const shutdown = (signal: string) => {
      log.info(`${signal} received, stopping`);
      rmSync(apiFile, { force: true });
      void daemon.stop().finally(done);
    };
    process.once("SIGINT", () => shutdown("SIGINT"));
    process.once("SIGTERM", () => shutdown("SIGTERM"));
  });
}

/** The home's secret and admin token (created on first start), and how requests are checked. */
async function nodeAuth(home: string, noAuth: boolean) {
  let ensured: Awaited<ReturnType<typeof ensureAuth>>;
  try {
    ensured = await ensureAuth(home);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  for (const file of ensured.created) log.info(`created ${file} (mode 0600)`);
  if (noAuth) {
    log.warn(
      "!!! --no-auth: /rpc/v0 and /piecestore/ accept every caller with admin rights. Private networks only. !!!",
    );
    return { authenticator: openAuthenticator, secret: ensured.secret };
  }
  log.info(`API tokens required (secret ${home}/auth-secret); CLIs here use ${home}/token`);
  return { authenticator: secretAuthenticator(ensured.secret), secret: ensured.secret };
}

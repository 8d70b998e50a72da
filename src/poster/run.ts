import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { CliError, command } from "../core/cli/command.ts";
import { expandHome } from "../manager/home.ts";
import { PROXY_ADDR_FORMS } from "../manager/proxy/addr.ts";
import { runDaemon } from "../manager/run.ts";

/** The standalone PoSter's home unless --home says otherwise: apart from the source manager's. */
export const DEFAULT_POSTER_HOME = join(homedir(), ".damocles-poster");

/**
 * `poster run`: a proxy node with the WindowPoSt module on (seed 002's standalone PoSter). The same daemon
 * as `manager run --proxy … --poster`, with the defaults a separate PoSter machine or process wants.
 */
export const posterRunCommand = command({
  meta: { name: "run", description: "Run a standalone PoSter: proves the WindowPoSt of a source manager's miners (a --poster proxy node)" },
  args: {
    home: { type: "string", description: "this node's home: its own store and api file (default ~/.damocles-poster)" },
    "conf-dir": {
      type: "string",
      description: "read sector-manager.cfg / ext-prover.cfg from this directory, e.g. the source manager's home (env DAMOCLES_CONF_DIR)",
    },
    listen: { type: "string", description: "address to serve on", default: ":2789" },
    proxy: { type: "string", description: "required: the source manager (ip:port) whose chain and sector index this node uses" },
    "proxy-sector-indexer-off": { type: "boolean", description: "locate sectors with this node's own SectorIndexer instead of the source's" },
    "worker-prover": { type: "boolean", description: 'hand WindowPoSt jobs to workers with plan = "wdpost" (Venus.WdPoSt* API)' },
    "ext-prover": { type: "boolean", description: "run WindowPoSt/WinningPoSt in processor children from ext-prover.cfg" },
    miner: { type: "boolean", description: "also mine blocks (WinningPoSt) for [[Miners]] with Proof.Enabled = true" },
    warmup: { type: "boolean", description: "with --miner, run one WinningPoSt at start (--no-warmup to skip)", default: true },
  },
  examples: [
    "damocles poster run --proxy 127.0.0.1:1789 --conf-dir ~/.damocles-manager",
    "damocles poster run --home ~/.damocles-poster --proxy 10.0.0.5:1789 --conf-dir /etc/damocles --listen :2789 --ext-prover",
    "damocles poster run --proxy 127.0.0.1:1789 --conf-dir ~/.damocles-manager --worker-prover",
  ],
  async run({ args }) {
    if (args.proxy === undefined || args.proxy.trim() === "") {
      throw new CliError(
        `poster run needs --proxy: the source manager whose miners this PoSter proves, as ${PROXY_ADDR_FORMS}\n` +
          "  e.g. damocles poster run --proxy 127.0.0.1:1789 --conf-dir ~/.damocles-manager",
        2,
      );
    }
    await runDaemon({
      home: args.home ? resolve(expandHome(args.home)) : DEFAULT_POSTER_HOME,
      confDir: args["conf-dir"],
      listen: args.listen,
      poster: true,
      miner: args.miner,
      warmup: args.warmup,
      workerProver: args["worker-prover"],
      extProver: args["ext-prover"],
      proxy: args.proxy,
      proxySectorIndexerOff: args["proxy-sector-indexer-off"],
    });
  },
});

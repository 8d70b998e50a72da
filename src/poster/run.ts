import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { CliError, command } from "../core/cli/command.ts";
import { expandHome } from "../core/config/manager-home.ts";
import { PROXY_ADDR_FORMS } from "../manager/proxy/addr.ts";
import { runDaemon, sharedDaemonArgs, sharedDaemonOptions } from "../manager/run.ts";

/** The standalone PoSter's home unless --home says otherwise: apart from the source manager's. */
export const DEFAULT_POSTER_HOME = join(homedir(), ".damocles-poster");

/**
 * `poster run`: a proxy node with the WindowPoSt module on (seed 002's standalone PoSter). The same daemon
 * as `manager run --proxy … --poster`, with the defaults a separate PoSter machine or process wants.
 */
export const posterRunCommand = command({
  meta: {
    name: "run",
    description: "Run a standalone PoSter: proves the WindowPoSt of a source manager's miners (a --poster proxy node)",
  },
  args: {
    home: { type: "string", description: "this node's home: its own store and api file (default ~/.damocles-poster)" },
    listen: { type: "string", description: "address to serve on", default: ":2789" },
    proxy: {
      type: "string",
      description: "required: the source manager (ip:port) whose chain and sector index this node uses",
    },
    ...sharedDaemonArgs,
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
      ...sharedDaemonOptions(args),
      home: args.home ? resolve(expandHome(args.home)) : DEFAULT_POSTER_HOME,
      listen: args.listen,
      poster: true,
      proxy: args.proxy,
    });
  },
});

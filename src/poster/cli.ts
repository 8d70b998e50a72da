import { command } from "../core/cli/command.ts";

/** A standalone PoSter node is a manager with the poster module, usually proxying another manager (seed 002). */
export const posterCommand = command({
  meta: {
    name: "poster",
    description: "Standalone PoSter node (a manager running the WindowPoSt module, usually with --proxy)",
  },
  subCommands: {
    run: () => import("./run.ts").then((m) => m.posterRunCommand),
  },
  examples: [
    "damocles poster run --proxy 127.0.0.1:1789 --conf-dir ~/.damocles-manager",
    "damocles poster run --home ~/.damocles-poster --proxy 127.0.0.1:1789 --listen :2789 --ext-prover",
  ],
});

import { command } from "../core/cli/command.ts";

const subCommands = {
  init: () => import("./init.ts").then((m) => m.initCommand),
  run: () => import("./run.ts").then((m) => m.runCommand),
};

/** `damocles-manager daemon init|run`, as the Go manager spells them (seed 002): the same two commands. */
const daemonCommand = command({
  meta: { name: "daemon", description: "The same init and run, spelled as damocles-manager's `daemon init|run`" },
  subCommands,
  examples: [
    "damocles manager --home ~/.damocles-manager2 daemon init",
    "damocles manager --home ~/.damocles-manager2 daemon run --proxy 127.0.0.1:1789",
  ],
});

export const managerCommand = command({
  meta: {
    name: "manager",
    description: "Sector manager daemon: chain, sector numbers, commitments, stores, workers, PoSt",
  },
  subCommands: { ...subCommands, daemon: daemonCommand },
  examples: [
    "damocles manager init --home ~/.damocles-manager --actor 1000 --sector-size 2KiB",
    "damocles manager run --home ~/.damocles-manager --listen 127.0.0.1:1789",
    "damocles manager --home ~/.damocles-manager2 daemon init",
  ],
});

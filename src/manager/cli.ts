import { command } from "../core/cli/command.ts";

export const managerCommand = command({
  meta: {
    name: "manager",
    description: "Sector manager daemon: chain, sector numbers, commitments, stores, workers, PoSt",
  },
  subCommands: {
    init: () => import("./init.ts").then((m) => m.initCommand),
    run: () => import("./run.ts").then((m) => m.runCommand),
  },
  examples: [
    "damocles manager init --home ~/.damocles-manager --actor 1000 --sector-size 2KiB",
    "damocles manager run --home ~/.damocles-manager --listen 127.0.0.1:1789",
  ],
});

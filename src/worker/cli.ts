import { command } from "../core/cli/command.ts";

export const workerCommand = command({
  meta: { name: "worker", description: "Sealing worker: sealing threads, stages, external processors, local management" },
  subCommands: {
    store: () => import("./store-init.ts").then((m) => m.storeCommand),
  },
  examples: ["damocles worker store sealing-init -l /mnt/nvme1/store -l /mnt/nvme2/store"],
});

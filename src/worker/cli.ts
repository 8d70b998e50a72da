import { command } from "../core/cli/command.ts";

export const workerCommand = command({
  meta: {
    name: "worker",
    description: "Sealing worker: sealing threads, stages, external processors, local management",
  },
  subCommands: {
    run: () => import("./run.ts").then((m) => m.runCommand),
    list: () => import("./manage.ts").then((m) => m.manageCommands.list),
    pause: () => import("./manage.ts").then((m) => m.manageCommands.pause),
    resume: () => import("./manage.ts").then((m) => m.manageCommands.resume),
    "enable-dump": () => import("./manage.ts").then((m) => m.manageCommands["enable-dump"]),
    "disable-dump": () => import("./manage.ts").then((m) => m.manageCommands["disable-dump"]),
    store: () => import("./store-init.ts").then((m) => m.storeCommand),
  },
  examples: [
    "damocles worker store sealing-init -l /mnt/nvme1/store -l /mnt/nvme2/store",
    "damocles worker run -c worker.toml",
    "damocles worker list",
    "damocles worker resume --index 0 --state Aborted",
  ],
});

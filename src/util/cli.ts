import { command } from "../core/cli/command.ts";

// One line per command group; groups live in their own modules and load lazily.
export const utilCommand = command({
  meta: { name: "util", description: "Operator tools: configuration, parameters, hardware, cluster inspection" },
  subCommands: {
    config: () => import("./config/cli.ts").then((m) => m.configCommand),
    hwinfo: () => import("./hwinfo/cli.ts").then((m) => m.hwinfoCommand),
    params: () => import("./params.ts").then((m) => m.paramsCommand),
    sealer: () => import("./sealer/cli.ts").then((m) => m.sealerCommand),
    storage: () => import("./storage.ts").then((m) => m.storageCommand),
    chain: () => import("./chain.ts").then((m) => m.chainCommand),
    worker: () => import("./worker.ts").then((m) => m.workerCommand),
    market: () => import("./market/cli.ts").then((m) => m.marketCommand),
    auth: () => import("./auth.ts").then((m) => m.authCommand),
    wallet: () => import("./wallet.ts").then((m) => m.walletCommand),
  },
  examples: [
    "damocles util config check worker.toml",
    "damocles util params check --sector-size 2KiB",
    "damocles util hwinfo",
  ],
});

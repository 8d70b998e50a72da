#!/usr/bin/env bun
/**
 * The one damocles executable. This file only wires roles to commands; each role lives in src/.
 */
import { command } from "../src/core/cli/command.ts";
import { runCli } from "../src/core/cli/run.ts";
import { VERSION } from "../src/core/version.ts";

const main = command({
  meta: {
    name: "damocles",
    version: VERSION,
    description: "Filecoin storage-provider sealing cluster: manager, worker, poster, devnet and operator tools",
  },
  subCommands: {
    manager: () => import("../src/manager/cli.ts").then((m) => m.managerCommand),
    poster: () => import("../src/poster/cli.ts").then((m) => m.posterCommand),
    worker: () => import("../src/worker/cli.ts").then((m) => m.workerCommand),
    util: () => import("../src/util/cli.ts").then((m) => m.utilCommand),
    devnet: () => import("../src/devnet/node/cli.ts").then((m) => m.devnetCommand),
    processor: () => import("../src/processor/cli.ts").then((m) => m.processorCommand),
    "processor-exec": () => import("../src/processor/exec-cli.ts").then((m) => m.processorExecCommand),
  },
  examples: [
    "damocles manager init --home ~/.damocles-manager",
    "damocles util config check worker.toml",
    "damocles --version",
  ],
});

await runCli(main);

import { command } from "../core/cli/command.ts";

// One line per command group; groups live in their own modules and load lazily.
export const utilCommand = command({
  meta: { name: "util", description: "Operator tools: configuration, parameters, hardware, cluster inspection" },
  subCommands: {
    config: () => import("./config/cli.ts").then((m) => m.configCommand),
  },
  examples: ["damocles util config check worker.toml"],
});

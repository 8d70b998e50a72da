import { command } from "../core/cli/command.ts";

/** A standalone PoSter node is a manager with the poster module, usually proxying another manager (seed 002). */
export const posterCommand = command({
  meta: { name: "poster", description: "Standalone PoSter node (a manager running the WindowPoSt module, usually with --proxy)" },
  subCommands: {},
});

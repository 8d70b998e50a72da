import { command } from "../../core/cli/command.ts";

export const sealerCommand = command({
  meta: { name: "sealer", description: "Sealing on the manager: sector states" },
  subCommands: {
    sectors: () => import("./sectors.ts").then((m) => m.sectorsCommand),
  },
  examples: ["damocles util sealer sectors list --api 127.0.0.1:1789"],
});

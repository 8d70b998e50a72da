import { command } from "../../core/cli/command.ts";

export const sealerCommand = command({
  meta: { name: "sealer", description: "Sealing and proving on the manager: sector states, WindowPoSt, SnapDeals" },
  subCommands: {
    sectors: () => import("./sectors.ts").then((m) => m.sectorsCommand),
    proving: () => import("./proving.ts").then((m) => m.provingCommand),
    snap: () => import("./snap.ts").then((m) => m.snapCommand),
  },
  examples: ["damocles util sealer sectors list --api 127.0.0.1:1789", "damocles util sealer proving deadlines"],
});

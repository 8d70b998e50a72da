import { command } from "../core/cli/command.ts";
import { renderTable } from "../core/cli/table.ts";
import { formatBytes } from "../core/config/index.ts";
import { Damocles } from "../core/sector/api.ts";
import { sealProofInfo } from "../core/sector/index.ts";
import { managerApiArgs, withManager } from "./sealer/client.ts";

const head = command({
  meta: { name: "head", description: "The chain head as the manager sees it, and each miner's power" },
  args: { ...managerApiArgs },
  examples: ["damocles util chain head --api 127.0.0.1:1789"],
  async run({ args }) {
    const h = await withManager(args, (c) => c.call(Damocles.ChainHead));
    process.stdout.write(
      `chain:   ${h.Kind}\nepoch:   ${h.Epoch}\ntime:    ${new Date(h.Timestamp).toISOString()} (block time ${h.BlockTimeMs} ms)\nmessages waiting: ${h.PendingMessages}\n\n`,
    );
    const rows = h.Miners.map((m) => [
      `f0${m.Actor}`,
      sealProofInfo(m.SealProofType).name,
      formatBytes(m.RawPower),
      m.ActiveSectors,
      `${m.ProvingDeadline.Index} (${m.ProvingDeadline.Open}..${m.ProvingDeadline.Close})`,
    ]);
    process.stdout.write(renderTable(["Miner", "SealProof", "RawPower", "ActiveSectors", "ProvingDeadline"], rows));
  },
});

export const chainCommand = command({
  meta: { name: "chain", description: "The chain the manager follows (the embedded devnet)" },
  subCommands: { head },
  examples: ["damocles util chain head"],
});

import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CliError, command } from "../core/cli/command.ts";

/**
 * A sealing store is a directory owned by one sealing thread: `data/` holds the sector files,
 * `meta/` the thread's state database, and `.holder` marks the directory as initialised.
 */
export function initSealingStore(location: string): { location: string; created: boolean } {
  const dir = resolve(location);
  const holder = join(dir, ".holder");
  const created = !existsSync(holder);
  mkdirSync(join(dir, "data"), { recursive: true });
  mkdirSync(join(dir, "meta"), { recursive: true });
  if (created) writeFileSync(holder, `damocles sealing store, initialised ${new Date().toISOString()}\n`);
  return { location: dir, created };
}

const sealingInit = command({
  meta: {
    name: "sealing-init",
    description: "Initialise sealing store directories (one per [[sealing_thread]] location)",
  },
  args: {
    location: { type: "string", alias: "l", description: "store directory; repeat -l for several", required: true },
  },
  examples: ["damocles worker store sealing-init -l /mnt/nvme1/store -l /mnt/nvme2/store"],
  run({ rawArgs }) {
    const locations: string[] = [];
    for (let i = 0; i < rawArgs.length; i++) {
      const a = rawArgs[i]!;
      if (a === "-l" || a === "--location") {
        const next = rawArgs[i + 1];
        if (!next || next.startsWith("-")) throw new CliError(`${a}: expected a directory path`, 2);
        locations.push(next);
        i++;
      } else if (a.startsWith("--location=")) locations.push(a.slice("--location=".length));
      else if (!a.startsWith("-") && locations.length > 0) locations.push(a); // `-l a b c`, as the original takes it
    }
    if (locations.length === 0) throw new CliError("no store location given: use -l DIR (repeatable)", 2);
    for (const loc of locations) {
      const r = initSealingStore(loc);
      process.stdout.write(`${r.created ? "initialised" : "already initialised"}: ${r.location}\n`);
    }
  },
});

export const storeCommand = command({
  meta: { name: "store", description: "Local store maintenance" },
  subCommands: { "sealing-init": sealingInit },
});

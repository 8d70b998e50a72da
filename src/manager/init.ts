import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureAuth } from "../core/auth/index.ts";
import { CliError, command } from "../core/cli/command.ts";
import { parseBytes, SECTOR_SIZES, sectorSizeName } from "../core/config/index.ts";
import { EXT_PROVER_CONFIG_FILE, MANAGER_CONFIG_FILE, resolveManagerHome } from "../core/config/manager-home.ts";
import { EXT_PROVER_TEMPLATE, managerConfigTemplate } from "../core/config/templates.ts";

export const initCommand = command({
  meta: {
    name: "init",
    description:
      "Write commented default sector-manager.cfg and ext-prover.cfg, an API secret and an admin token into the home",
  },
  args: {
    home: { type: "string", description: "manager home directory (default ~/.damocles-manager; env DAMOCLES_PATH)" },
    actor: { type: "string", description: "miner actor id of the devnet miner", default: "1000" },
    "sector-size": {
      type: "string",
      description: `sector size of the devnet miner (${Object.keys(SECTOR_SIZES).join(", ")})`,
      default: "2KiB",
    },
  },
  examples: [
    "damocles manager init --home ~/.damocles-manager",
    "damocles manager init --home /srv/dm --actor 1000 --sector-size 2KiB",
  ],
  async run({ args }) {
    const home = resolveManagerHome(args.home);
    const actor = Number(args.actor);
    if (!/^\d+$/.test(args.actor) || !Number.isSafeInteger(actor)) {
      throw new CliError(`--actor: expected a miner actor id (a non-negative integer), got "${args.actor}"`, 2);
    }
    const bytes = parseBytes(args["sector-size"]);
    const size = bytes === undefined ? undefined : sectorSizeName(bytes);
    if (!size) {
      throw new CliError(
        `--sector-size: expected one of ${Object.keys(SECTOR_SIZES).join(", ")}, got "${args["sector-size"]}"`,
        2,
      );
    }
    const files: [string, string][] = [
      [join(home, MANAGER_CONFIG_FILE), managerConfigTemplate({ home, actor, sectorSize: size })],
      [join(home, EXT_PROVER_CONFIG_FILE), EXT_PROVER_TEMPLATE],
    ];
    const existing = files.filter(([path]) => existsSync(path)).map(([path]) => path);
    if (existing.length > 0) {
      throw new CliError(
        `refusing to overwrite existing ${existing.join(" and ")}; edit them, or choose another --home`,
      );
    }
    mkdirSync(home, { recursive: true });
    mkdirSync(join(home, "persist-1"), { recursive: true });
    mkdirSync(join(home, "pieces"), { recursive: true });
    for (const [path, text] of files) writeFileSync(path, text, { flag: "wx" });
    const auth = await ensureAuth(home);
    const written = [
      ...files.map(([p]) => p),
      ...auth.created.map((p) => `${p} (mode 0600; more tokens: 'damocles util auth create-token --perm <perm>')`),
    ];
    process.stdout.write(
      `initialised ${home}\n  ${written.join("\n  ")}\nnext: damocles util config check ${files[0]![0]}\n`,
    );
  },
});

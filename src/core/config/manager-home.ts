/**
 * The manager home's layout: where the home is, and the files in it. Shared by the daemons (manager run,
 * poster run), `manager init`, and the CLIs that find a running manager through its home.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { expandHome } from "./expand-home.ts";

export { expandHome };

/** The manager home: --home, else the env names the original honours, else ~/.damocles-manager. */
export function resolveManagerHome(flag?: string): string {
  const fromEnv = process.env.DAMOCLES_PATH ?? process.env.VENUS_SECTOR_MANAGER_PATH ?? process.env.VSM_PATH;
  const chosen = flag ?? fromEnv;
  if (chosen) return resolve(expandHome(chosen));
  const home = join(homedir(), ".damocles-manager");
  const legacy = join(homedir(), ".venus-sector-manager");
  return !existsSync(home) && existsSync(legacy) ? legacy : home;
}

export const MANAGER_CONFIG_FILE = "sector-manager.cfg";
export const EXT_PROVER_CONFIG_FILE = "ext-prover.cfg";
/** The store of a manager or proxy node: everything a restart needs. */
export const MANAGER_DB_FILE = "damocles.db";
/** Written by `manager run` into its home: the address it serves on (like lotus' `api` file), for CLIs given only --home. */
export const API_FILE = "api";
/** The node's API secret: every token it accepts is signed with it. Mode 0600; see core/auth/secret.ts. */
export const AUTH_SECRET_FILE = "auth-secret";
/** An admin token of this node, for the CLIs on the same machine (like Lotus' `token` file). Mode 0600. */
export const TOKEN_FILE = "token";

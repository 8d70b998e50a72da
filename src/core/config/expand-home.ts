import { homedir } from "node:os";
import { join } from "node:path";

/**
 * `~` and `~/…` as a shell would expand them. Paths from config files (a processor's `bin`, an ext-prover
 * `Bin`) and flags reach us unexpanded, and a literal `~` directory is never what the operator meant.
 */
export function expandHome(p: string): string {
  return p === "~" || p.startsWith("~/") ? join(homedir(), p.slice(1)) : p;
}

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { bearer, cliToken } from "../../core/auth/index.ts";
import { CliError } from "../../core/cli/command.ts";
import { API_FILE, resolveManagerHome } from "../../core/config/manager-home.ts";
import { RpcCallError, RpcClient, RpcTransportError } from "../../core/rpc/index.ts";

/** Flags every command that talks to the manager takes. */
export const managerApiArgs = {
  api: {
    type: "string",
    description:
      "manager address host:port (default: the address in <home>/api written by 'manager run', else 127.0.0.1:1789)",
  },
  home: {
    type: "string",
    description: "manager home, to find its address and admin token (default ~/.damocles-manager; env DAMOCLES_PATH)",
  },
  token: {
    type: "string",
    description: "API token to send (default: $DAMOCLES_TOKEN, else <home>/token)",
  },
} as const;

/** The token a util command sends to the manager (or to a worker on the operator's behalf). */
export function managerToken(args: { token?: string; home?: string }): string | undefined {
  return cliToken({ token: args.token, home: resolveManagerHome(args.home) });
}

export function managerAddress(args: { api?: string; home?: string }): string {
  if (args.api) return args.api;
  const file = join(resolveManagerHome(args.home), API_FILE);
  if (existsSync(file)) {
    const text = readFileSync(file, "utf8").trim();
    if (text) return text;
  }
  return "127.0.0.1:1789";
}

/** Opens a client, runs fn, and turns RPC failures into one clear operator message. */
export async function withManager<T>(
  args: { api?: string; home?: string; token?: string },
  fn: (client: RpcClient) => Promise<T>,
  opts: { timeoutMs?: number } = {},
): Promise<T> {
  const addr = managerAddress(args);
  let client: RpcClient;
  try {
    client = new RpcClient(addr, { timeoutMs: opts.timeoutMs ?? 30_000, headers: bearer(managerToken(args)) });
  } catch (err) {
    throw new CliError(`--api: ${(err as Error).message}`, 2);
  }
  try {
    return await fn(client);
  } catch (err) {
    if (err instanceof RpcTransportError)
      throw new CliError(
        `cannot talk to the manager at ${addr}: ${err.message}. Is 'damocles manager run' running there?`,
      );
    if (err instanceof RpcCallError) {
      // Refusals for want of a token already name the method.
      const named = err.rpcMessage.startsWith(`${err.method} `);
      throw new CliError(named ? err.rpcMessage : `${err.method}: ${err.rpcMessage}`);
    }
    throw err;
  } finally {
    client.close();
  }
}

export function parseSectorArgs(
  minerText: string | undefined,
  numberText: string | undefined,
): { Miner: number; Number: number } {
  const miner = parseId("miner", minerText);
  const number = parseId("sector number", numberText);
  return { Miner: miner, Number: number };
}

function parseId(what: string, text: string | undefined): number {
  const cleaned = (text ?? "").replace(/^[ft]0/, "");
  if (!/^\d+$/.test(cleaned) || !Number.isSafeInteger(Number(cleaned))) {
    throw new CliError(
      `expected a ${what} (a non-negative integer${what === "miner" ? ", f0/t0 prefix allowed" : ""}), got "${text ?? ""}"`,
      2,
    );
  }
  return Number(cleaned);
}

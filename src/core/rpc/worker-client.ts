import { bearer } from "../auth/client-token.ts";
import { CliError } from "../cli/command.ts";
import { RpcClient } from "./client.ts";

/** Opens a client to a worker's VenusWorker API for one CLI action; failures become one operator message. */
export async function withWorkerClient<T>(
  addr: string,
  token: string | undefined,
  fn: (c: RpcClient) => Promise<T>,
): Promise<T> {
  const client = new RpcClient(addr, { timeoutMs: 15_000, headers: bearer(token) });
  try {
    return await fn(client);
  } catch (err) {
    throw new CliError(`worker at ${addr}: ${(err as Error).message}`);
  } finally {
    client.close();
  }
}

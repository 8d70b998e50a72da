import { RpcClient } from "../../core/rpc/index.ts";
import { Venus } from "../../core/sector/api.ts";
import type { SectorID, SectorIndexLocation } from "../../core/sector/index.ts";
import type { SectorLocator } from "../stores/locate.ts";

/**
 * The source manager's SectorIndexer over `Venus.SectorIndexerFind`: a proxy node sees every sector the
 * moment the source indexes it (seed 002: "the exact same and real-time sector location information"),
 * without a copy of its database. The answer names persist stores; this node's config maps them to paths.
 */
export class RemoteSectorLocator implements SectorLocator {
  private readonly client: RpcClient;

  constructor(
    readonly addr: string,
    opts: { timeoutMs?: number; headers?: Record<string, string> } = {},
  ) {
    this.client = new RpcClient(addr, { timeoutMs: opts.timeoutMs, headers: opts.headers });
  }

  find(type: "normal" | "upgrade", sid: SectorID): Promise<SectorIndexLocation> {
    return this.client.call(Venus.SectorIndexerFind, type, sid);
  }

  close(): void {
    this.client.close();
  }
}

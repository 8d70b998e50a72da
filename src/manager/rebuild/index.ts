/**
 * The rebuild module of the manager: Venus.SectorSetForRebuild and Venus.AllocateRebuildSector (the
 * original's) and Damocles.RebuildTasks (ours), over one RebuildService. A refused request answers
 * InvalidParams with the reason. ReportFinalized and ReportAborted reach the service through
 * SealerServices.rebuild (sealer-api.ts).
 */
import { RpcError, RpcErrorCode } from "../../core/rpc/errors.ts";
import type { RpcRegistry } from "../../core/rpc/server.ts";
import { DamoclesRebuild, VenusRebuild } from "../../core/sector/api-rebuild.ts";
import { RebuildRefusedError, type RebuildService } from "./service.ts";

export function registerRebuildApi(registry: RpcRegistry, s: RebuildService): void {
  registry
    .implement(VenusRebuild.AllocateRebuildSector, (spec) => s.allocate(spec))
    .implement(VenusRebuild.SectorSetForRebuild, async (sid, opt) => {
      try {
        return await s.request(sid, opt);
      } catch (err) {
        if (err instanceof RebuildRefusedError) throw new RpcError(RpcErrorCode.InvalidParams, err.message);
        throw err;
      }
    })
    .implement(DamoclesRebuild.RebuildTasks, () => s.tasks.list());
}

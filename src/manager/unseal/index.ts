/**
 * The unseal module of the manager: its Venus methods (AllocateUnsealSector, AcquireUnsealDest,
 * AchieveUnsealSector, UnsealPiece, FindSectorWithPiece) and our Damocles.UnsealTask(s), over one
 * UnsealService. A refused request or an unknown task answers InvalidParams with the reason.
 */
import { RpcError, RpcErrorCode } from "../../core/rpc/errors.ts";
import type { RpcRegistry } from "../../core/rpc/server.ts";
import { DamoclesUnseal, VenusUnseal } from "../../core/sector/api-unseal.ts";
import { type UnsealDeps, UnsealService } from "./service.ts";
import { UnsealRequestRefusedError, UnsealTaskNotFoundError } from "./tasks.ts";

export function registerUnsealApi(registry: RpcRegistry, deps: UnsealDeps): UnsealService {
  const s = new UnsealService(deps);
  registry
    .implement(VenusUnseal.AllocateUnsealSector, (spec) => s.allocate(spec))
    .implement(VenusUnseal.AcquireUnsealDest, (sid, cid) => explained(() => s.acquireDest(sid, cid["/"])))
    .implement(VenusUnseal.AchieveUnsealSector, (sid, cid, errInfo) =>
      explained(async () => {
        await s.achieve(sid, cid["/"], errInfo);
        return null;
      }),
    )
    .implement(VenusUnseal.UnsealPiece, (sid, cid, offset, size, dest) =>
      explained(() => s.request(sid, cid["/"], offset, size, dest)),
    )
    .implement(VenusUnseal.FindSectorWithPiece, (where, cid) => s.findSectorWithPiece(where, cid["/"]))
    .implement(DamoclesUnseal.UnsealTask, (sid, cid) => s.tasks.get(sid, cid["/"]) ?? null)
    .implement(DamoclesUnseal.UnsealTasks, () => s.tasks.list());
  return s;
}

async function explained<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof UnsealRequestRefusedError || err instanceof UnsealTaskNotFoundError)
      throw new RpcError(RpcErrorCode.InvalidParams, err.message);
    throw err;
  }
}

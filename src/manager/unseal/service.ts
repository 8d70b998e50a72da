import { childLogger } from "../../core/log/index.ts";
import { type SectorUnsealInfo, type UnsealState, unsealTaskKey } from "../../core/sector/api-unseal.ts";
import { cidToCommitment, pieceCommitment } from "../../core/sector/cid.ts";
import { type SectorID, sectorName } from "../../core/sector/id.ts";
import { sealProofInfo } from "../../core/sector/proof.ts";
import type { SectorWorkerState } from "../../core/sector/states.ts";
import { parseUnsealDest, UnsealDestError } from "../../core/sector/unseal-dest.ts";
import type { AllocateSectorSpec, SectorState } from "../../core/sector/wire.ts";
import type { KVStore } from "../../core/store/index.ts";
import type { SectorIndexer } from "../sectors/indexer.ts";
import type { SectorStates } from "../sectors/states.ts";
import { describePieces, locatePiece, rangeProblem } from "./pieces.ts";
import { type AllocationChoice, UnsealRequestRefusedError, UnsealTasks } from "./tasks.ts";

const log = childLogger("unseal");

export interface UnsealDeps {
  store: KVStore;
  states: SectorStates;
  indexer: SectorIndexer;
  /** Actors this manager serves: only their sectors are handed to workers. */
  actors: () => readonly number[];
  now?: () => number;
}

/**
 * The unseal rules of the manager (the original's UnsealManager and the unseal parts of its Sealer):
 * - a request names a sealed sector and a piece in it (found in the sector's state, or placed by the
 *   operator with an explicit range) and a destination of a form a worker can deliver to;
 * - a worker gets the oldest queued task of a miner it serves, with the sector's ticket, CommD and the
 *   persist store that holds its sealed file; the sector is marked Unsealing meanwhile;
 * - a task whose sector can not be unsealed (unknown, not indexed) fails with the reason instead of
 *   being handed out (the original hands it out and then errors, losing the task).
 */
export class UnsealService {
  readonly tasks: UnsealTasks;

  constructor(private readonly deps: UnsealDeps) {
    this.tasks = new UnsealTasks(deps.store, deps.now);
  }

  /** Venus.UnsealPiece: queue (or add a destination to) a task; size 0 = find the piece in the sector. */
  async request(sid: SectorID, pieceCid: string, offset: number, size: number, dest: string): Promise<UnsealState> {
    const name = sectorName(sid);
    try {
      pieceCommitment(pieceCid);
    } catch (err) {
      throw new UnsealRequestRefusedError(`cannot unseal ${pieceCid}: ${(err as Error).message}`);
    }
    const found = this.deps.states.find(sid);
    if (!found)
      throw new UnsealRequestRefusedError(`cannot unseal from ${name}: the sector is unknown to this manager`);
    const state = found.state;
    if (state.AbortReason !== "")
      throw new UnsealRequestRefusedError(`cannot unseal from ${name}: it was aborted (${state.AbortReason})`);
    if (!state.Pre)
      throw new UnsealRequestRefusedError(`cannot unseal from ${name}: it was never pre-committed, nothing is sealed`);
    let range = { offset, size };
    if (size === 0) {
      const at = locatePiece(state, pieceCid);
      if (!at)
        throw new UnsealRequestRefusedError(
          `piece ${pieceCid} is not in sector ${name}: ${describePieces(state)}; give --offset and --size to unseal a range that the manager does not know`,
        );
      range = { offset: at.offset, size: at.size };
    } else {
      const problem = rangeProblem(sealProofInfo(state.SectorType).sectorSize, offset, size);
      if (problem) throw new UnsealRequestRefusedError(`cannot unseal ${pieceCid} from ${name}: ${problem}`);
    }
    checkDest(dest);
    const result = await this.tasks.request({ sid, proofType: state.SectorType, pieceCid, ...range, dest });
    log.info(
      `unseal ${unsealTaskKey(sid, pieceCid)} (offset ${range.offset}, size ${range.size}) → ${dest}: ${result}`,
    );
    return result;
  }

  /** Venus.AllocateUnsealSector. */
  async allocate(spec: AllocateSectorSpec): Promise<SectorUnsealInfo | null> {
    const served = new Set(this.deps.actors());
    const miners = spec.AllowedMiners ? new Set(spec.AllowedMiners) : undefined;
    const proofs = spec.AllowedProofTypes ? new Set(spec.AllowedProofTypes) : undefined;
    const taken = await this.tasks.allocate((info): AllocationChoice => {
      const sid = info.Sector.ID;
      if (!served.has(sid.Miner) || (miners && !miners.has(sid.Miner))) return { skip: true };
      const found = this.deps.states.find(sid);
      if (!found) return { fail: `${sectorName(sid)} is unknown to the manager` };
      if (proofs && !proofs.has(found.state.SectorType)) return { skip: true };
      return this.fill(info, found.state);
    });
    if (!taken) return null;
    this.markUnsealing(taken.Sector.ID, true);
    log.info(`unseal ${unsealTaskKey(taken.Sector.ID, taken.PieceCid["/"])} handed to a worker`);
    return taken;
  }

  private fill(info: SectorUnsealInfo, state: SectorState): AllocationChoice {
    const name = sectorName(state.ID);
    if (!state.Pre) return { fail: `${name} has no PreCommit info (CommD and ticket)` };
    const access = this.deps.indexer.find("normal", state.ID);
    if (!access.Found)
      return { fail: `${name}'s sealed file is in no persist store the manager knows (not in the sector index)` };
    return {
      take: {
        ...info,
        Sector: { ID: info.Sector.ID, ProofType: state.SectorType },
        PrivateInfo: { AccessInstance: access.Instance.SealedFile },
        Ticket: { Ticket: state.Pre.Ticket.Ticket, Epoch: state.Pre.Ticket.Epoch },
        CommD: [...cidToCommitment(state.Pre.CommD["/"], "unsealed")],
      },
    };
  }

  /** Venus.AcquireUnsealDest. */
  acquireDest(sid: SectorID, pieceCid: string): Promise<string[] | null> {
    return this.tasks.acquireDest(sid, pieceCid);
  }

  /** Venus.AchieveUnsealSector. */
  async achieve(sid: SectorID, pieceCid: string, errInfo: string): Promise<void> {
    const info = await this.tasks.achieve(sid, pieceCid, errInfo);
    if (!this.tasks.sectorBusy(sid, pieceCid)) this.markUnsealing(sid, false);
    const key = unsealTaskKey(sid, pieceCid);
    if (errInfo === "") log.info(`unseal ${key} delivered to ${(info.Dest ?? []).join(", ")}`);
    else log.error(`unseal ${key} failed: ${errInfo}`);
  }

  /** Venus.FindSectorWithPiece. */
  findSectorWithPiece(where: SectorWorkerState, pieceCid: string): SectorState | null {
    return this.deps.states.findWithPiece(where, pieceCid, (s) => locatePiece(s, pieceCid) !== undefined) ?? null;
  }

  /** The sector's Unsealing mark (shown by `sectors list`, ListSectors job 4) where its state is. */
  private markUnsealing(sid: SectorID, on: boolean): void {
    const found = this.deps.states.find(sid);
    if (!found || found.state.Unsealing === on) return;
    if (found.where === "online") this.deps.states.update(sid, (s) => (s.Unsealing = on));
    else this.deps.states.saveOffline({ ...found.state, Unsealing: on });
  }
}

/** The original's checkDestURL: http(s), file, store; market only with a market configured (never here). */
function checkDest(dest: string): void {
  let parsed: ReturnType<typeof parseUnsealDest>;
  try {
    parsed = parseUnsealDest(dest);
  } catch (err) {
    if (err instanceof UnsealDestError) throw new UnsealRequestRefusedError(err.message);
    throw err;
  }
  if (parsed.kind === "market")
    throw new UnsealRequestRefusedError(
      `cannot deliver to ${dest}: this manager is connected to no market, so market:// destinations are not possible`,
    );
}

import { childLogger } from "../../core/log/index.ts";
import { type AllocatedSector, type AllocateSectorSpec, newSectorState, sectorName } from "../../core/sector/index.ts";
import type { KVStore } from "../../core/store/index.ts";
import type { NumberBounds, SectorNumbers } from "./numbers.ts";
import type { SectorStates } from "./states.ts";

const log = childLogger("allocator");

export interface AllocatableMiner {
  actor: number;
  sealProofType: number;
  enabled: boolean;
  bounds: NumberBounds;
  verbose: boolean;
}

export interface AllocatorDeps {
  store: KVStore;
  numbers: SectorNumbers;
  states: SectorStates;
  miners: () => AllocatableMiner[];
  /** Whether the chain already knows the number (another manager, a wiped store); such numbers are skipped. */
  allocatedOnChain: (actor: number, number: number) => Promise<boolean>;
  random?: () => number;
  onAllocated?: (s: AllocatedSector) => void;
}

/**
 * AllocateSector: a random enabled miner matching the worker's spec, the miner's next number, and a fresh
 * online sector state — number and state in one durable transaction.
 */
export class SectorAllocator {
  constructor(private readonly deps: AllocatorDeps) {}

  async allocate(spec: AllocateSectorSpec): Promise<AllocatedSector | null> {
    const candidates = this.deps
      .miners()
      .filter(
        (m) =>
          m.enabled &&
          (!spec.AllowedMiners || spec.AllowedMiners.length === 0 || spec.AllowedMiners.includes(m.actor)) &&
          (!spec.AllowedProofTypes ||
            spec.AllowedProofTypes.length === 0 ||
            spec.AllowedProofTypes.includes(m.sealProofType)),
      );
    const random = this.deps.random ?? Math.random;
    while (candidates.length > 0) {
      const i = Math.floor(random() * candidates.length);
      const miner = candidates[i]!;
      const allocated = await this.allocateFor(miner);
      if (allocated) return allocated;
      candidates.splice(i, 1);
    }
    return null;
  }

  private async allocateFor(miner: AllocatableMiner): Promise<AllocatedSector | null> {
    // A number found taken on chain is burned, not reused: the counter only moves forward.
    for (let attempt = 0; attempt < 1000; attempt++) {
      const number = await this.deps.store.durable(() => {
        const n = this.deps.numbers.next(miner.actor, miner.bounds);
        if (n !== undefined)
          this.deps.states.create(newSectorState({ Miner: miner.actor, Number: n }, miner.sealProofType));
        return n;
      });
      if (number === undefined) {
        log.warn(`miner ${miner.actor} has no sector numbers left (MaxNumber ${miner.bounds.maxNumber})`);
        return null;
      }
      const id = { Miner: miner.actor, Number: number };
      if (await this.deps.allocatedOnChain(miner.actor, number)) {
        log.warn(`${sectorName(id)} is already allocated on chain; skipping the number`);
        await this.deps.states.moveOffline(id, (s) => (s.AbortReason = "sector number already allocated on chain"));
        continue;
      }
      const allocated: AllocatedSector = { ID: id, ProofType: miner.sealProofType };
      if (miner.verbose) log.info(`allocated ${sectorName(id)}`);
      this.deps.onAllocated?.(allocated);
      return allocated;
    }
    return null;
  }
}

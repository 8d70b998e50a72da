import { childLogger } from "../core/log/index.ts";
import { type BlockRecord, isUpgraded, type ProvingSector, type RejectionCode } from "../core/sector/chain.ts";
import { winningPoStProofFor } from "../core/sector/index.ts";
import type { DevnetClock } from "./clock.ts";
import type { DevnetSettings } from "./config.ts";
import type { Beacon } from "./randomness.ts";
import type { DevnetStore } from "./store.ts";
import { InvalidProofError, type PoStVerifier } from "./verifier.ts";

const log = childLogger("devnet");

/**
 * WinningPoSt elections: a power-weighted draw from the beacon decides who may produce a block at an
 * epoch, and a submitted block counts once its WinningPoSt over the miner's live sectors verifies.
 */
export class WinningPoStElections {
  constructor(
    private readonly db: DevnetStore,
    private readonly clock: DevnetClock,
    private readonly settings: DevnetSettings,
    private readonly verifier: PoStVerifier,
    private readonly beacon: Beacon,
  ) {}

  /** The sectors a WinningPoSt at `epoch` draws from: active by then and not faulty, by number. */
  liveSectors(actor: number, epoch: number): ProvingSector[] {
    return this.db
      .sectors(actor)
      .filter((s) => s.activation <= epoch && !this.db.isFaulty(actor, s.number))
      .sort((a, b) => a.number - b.number)
      .map((s) => ({ number: s.number, sealProof: s.sealProof, commR: s.commR, upgraded: isUpgraded(s) }));
  }

  /**
   * Power-weighted election from the beacon: across all miners about one block every ElectionPeriod
   * epochs, each miner's chance proportional to its share of live (non-faulty) sectors' bytes.
   */
  isElected(actor: number, epoch: number): boolean {
    if (!this.db.miner(actor)) return false;
    let total = 0;
    let mine = 0;
    for (const other of this.db.miners()) {
      const bytes = this.liveSectors(other.actor, epoch).length * other.sectorSize;
      total += bytes;
      if (other.actor === actor) mine = bytes;
    }
    if (mine === 0) return false;
    const draw = Buffer.from(this.beacon("WinningPoStChallengeSeed", actor, epoch)).readUInt32LE(0) / 2 ** 32;
    return draw < mine / total / this.settings.ElectionPeriod;
  }

  async submitBlock(
    actor: number,
    epoch: number,
    proofs: { postProof: number; proof: string }[],
  ): Promise<BlockRecord> {
    const existing = this.db.block(actor, epoch);
    if (existing?.ok) return existing;
    const head = this.clock.headEpoch();
    const record = (ok: boolean, sectors: number, refusal?: { code: RejectionCode; error: string }): BlockRecord => {
      const r: BlockRecord = { actor, epoch, ok, sectors, ...refusal };
      this.db.transaction(() => {
        this.db.putBlock(r);
        this.db.bumpStats(actor, ok ? { blocksMined: 1 } : { winningPoStsRejected: 1 });
      });
      if (ok)
        log.info(`block of f0${actor} at epoch ${epoch} accepted (WinningPoSt verified over ${sectors} sector(s))`);
      else log.warn(`block of f0${actor} at epoch ${epoch} rejected: ${refusal?.error}`);
      return r;
    };
    const refuse = (sectors: number, code: RejectionCode, error: string) => record(false, sectors, { code, error });
    if (epoch > head) return refuse(0, "future-epoch", `epoch ${epoch} is in the future (head ${head})`);
    const late = this.settings.WPoStChallengeWindow;
    if (head - epoch > late)
      return refuse(
        0,
        "too-late",
        `too late: the block for epoch ${epoch} came ${head - epoch} epochs later (limit ${late})`,
      );
    if (!this.isElected(actor, epoch)) return refuse(0, "not-elected", `f0${actor} was not elected at epoch ${epoch}`);
    const m = this.db.miner(actor)!;
    const sectors = this.liveSectors(actor, epoch);
    try {
      const ok = await this.verifier.verifyWinningPoSt({
        minerId: actor,
        randomness: this.beacon("WinningPoStChallengeSeed", actor, epoch),
        proofs: proofs.map((p) => ({ postProof: p.postProof, proof: new Uint8Array(Buffer.from(p.proof, "base64")) })),
        replicas: sectors.map((s) => ({ sectorId: s.number, commR: Uint8Array.from(s.commR) })),
      });
      const expected = winningPoStProofFor(m.sealProofType);
      if (proofs.some((p) => p.postProof !== expected)) {
        return refuse(
          sectors.length,
          "wrong-proof-type",
          `WinningPoSt proof type does not fit the miner (expects ${expected})`,
        );
      }
      return ok
        ? record(true, sectors.length)
        : refuse(sectors.length, "invalid-proof", "invalid WinningPoSt: verify_winning_post rejected it");
    } catch (err) {
      if (err instanceof InvalidProofError)
        return refuse(sectors.length, "invalid-proof", `invalid WinningPoSt: ${err.reason}`);
      return refuse(sectors.length, "unverifiable", `WinningPoSt could not be verified: ${(err as Error).message}`);
    }
  }
}

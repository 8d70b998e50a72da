import { childLogger } from "../../core/log/index.ts";
import type { PoStChain } from "../../core/sector/chain.ts";
import { winningPoStProofFor } from "../../core/sector/index.ts";
import type { PoStReplica, WinningPoStProver } from "../prover.ts";
import { locateReplica, type SectorLocator, type StorePaths } from "../stores/locate.ts";
import type { WinningPoStMetrics } from "./metrics.ts";

const log = childLogger("miner");

/** Indices into the eligible sector set that a WinningPoSt at this randomness must prove. */
export type WinningChallenge = (
  postProof: number,
  randomness: Uint8Array,
  actor: number,
  sectorSetLen: number,
) => Promise<number[]>;

export interface BlockMinerDeps {
  chain: PoStChain;
  locator: SectorLocator;
  storePaths: StorePaths;
  prover: WinningPoStProver;
  challenge: WinningChallenge;
  /** Miners with [[Miners]].Proof.Enabled. */
  actors: number[];
  metrics?: WinningPoStMetrics;
}

/**
 * The miner module (`manager run --miner`): at every epoch, asks the chain whether each miner was
 * elected; on a win, proves the challenged sectors with a WinningPoSt and submits the block, which the
 * devnet verifies and counts. Elections are independent per epoch, so a slow proof only costs that block.
 */
export class BlockMiner {
  /** One WinningPoSt at a time per miner: on a small machine, overlapping proofs would all come too late. */
  private readonly busy = new Map<number, number>();
  private stopped = false;

  constructor(private readonly deps: BlockMinerDeps) {}

  onEpoch(epoch: number): void {
    if (this.stopped) return;
    for (const actor of this.deps.actors) {
      const proving = this.busy.get(actor);
      if (proving !== undefined) {
        void this.deps.chain.isElected(actor, epoch).then((won) => {
          if (won)
            log.warn(
              `miner ${actor} elected at epoch ${epoch} while still proving epoch ${proving}: this block is lost`,
            );
        });
        continue;
      }
      this.busy.set(actor, epoch);
      this.tryMine(actor, epoch)
        .catch((err) => log.warn(`miner ${actor} epoch ${epoch}: ${(err as Error).message}`))
        .finally(() => this.busy.delete(actor));
    }
  }

  stop(): void {
    this.stopped = true;
  }

  private async tryMine(actor: number, epoch: number): Promise<void> {
    if (!(await this.deps.chain.isElected(actor, epoch))) return;
    log.info(`miner ${actor} elected at epoch ${epoch}; generating WinningPoSt`);
    const started = performance.now();
    try {
      const { postProof, replicas, randomness } = await this.challenged(actor, epoch);
      const proofs = await this.deps.prover.generateWinningPoSt({
        minerId: actor,
        proofType: postProof,
        replicas,
        seed: randomness,
      });
      const seconds = (performance.now() - started) / 1000;
      this.deps.metrics?.winningPoStDuration.observe(seconds, { miner: actor });
      const block = await this.deps.chain.submitBlock(
        actor,
        epoch,
        proofs.map((p) => ({ postProof: p.postProof, proof: Buffer.from(p.proof).toString("base64") })),
      );
      this.deps.metrics?.winningPoStOutcome.inc({ miner: actor, outcome: block.ok ? "mined" : "rejected" });
      if (block.ok)
        log.info(`miner ${actor}: block at epoch ${epoch} accepted (WinningPoSt in ${seconds.toFixed(1)} s)`);
      else log.error(`miner ${actor}: block at epoch ${epoch} rejected: ${block.error}`);
    } catch (err) {
      this.deps.metrics?.winningPoStOutcome.inc({ miner: actor, outcome: "failed" });
      throw err;
    }
  }

  private async challenged(
    actor: number,
    epoch: number,
  ): Promise<{ postProof: number; replicas: PoStReplica[]; randomness: Uint8Array }> {
    const { chain } = this.deps;
    const info = await chain.minerInfo(actor);
    if (!info) throw new Error(`miner ${actor} is not on the chain`);
    const postProof = winningPoStProofFor(info.sealProofType);
    const set = await chain.winningSectorSet(actor, epoch);
    if (set.length === 0) throw new Error("no live sectors to prove");
    const randomness = await chain.winningPoStRandomness(actor, epoch);
    const picks = await this.deps.challenge(postProof, randomness, actor, set.length);
    const replicas: PoStReplica[] = [];
    for (const i of picks) {
      const located = await locateReplica(this.deps.locator, this.deps.storePaths, actor, set[i]!);
      if (!located.ok) throw new Error(`challenged sector ${set[i]!.number}: ${located.reason}`);
      replicas.push(located.replica);
    }
    return { postProof, replicas, randomness };
  }

  /**
   * `--warmup`: one WinningPoSt at start over the current head's challenges (not submitted), so the
   * parameters are loaded and a broken setup shows before the first real election.
   */
  async warmup(): Promise<void> {
    for (const actor of this.deps.actors) {
      const started = performance.now();
      try {
        const head = await this.deps.chain.head();
        const { postProof, replicas, randomness } = await this.challenged(actor, head.epoch);
        await this.deps.prover.generateWinningPoSt({
          minerId: actor,
          proofType: postProof,
          replicas,
          seed: randomness,
        });
        const seconds = (performance.now() - started) / 1000;
        this.deps.metrics?.winningPoStOutcome.inc({ miner: actor, outcome: "warmup" });
        log.info(`miner ${actor}: warm-up WinningPoSt done in ${seconds.toFixed(1)} s`);
      } catch (err) {
        log.warn(`miner ${actor}: warm-up WinningPoSt failed: ${(err as Error).message}`);
      }
    }
  }
}

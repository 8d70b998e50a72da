import { createHash } from "node:crypto";
import * as v from "valibot";
import { parseAddress, withNetwork } from "../core/chain/address.ts";
import { childLogger } from "../core/log/index.ts";
import {
  type DealProposalParams,
  DealProposalParamsSchema,
  DealRejectedError,
  type OnChainDeal,
  type PreCommitParams,
  type RejectionCode,
  type SectorResult,
} from "../core/sector/chain.ts";
import { CommitmentCidError, commDToCid, pieceCommitment } from "../core/sector/index.ts";
import type { DevnetClock } from "./clock.ts";
import { SECTOR_LIFETIME_EPOCHS } from "./miner-actor.ts";
import { rejected } from "./mpool.ts";
import { type DevnetStore, K, type StoredMiner } from "./store.ts";
import type { CommDCalculator, DataPiece } from "./verifier.ts";

const log = childLogger("devnet");

/** Verdicts by sector number, reached before the epoch's transaction (proofs and CommD run asynchronously). */
export type SectorVerdicts = Map<number, SectorResult>;

const MIN_PIECE_SIZE = 128;
const MAX_LABEL_LENGTH = 256;

const fail = (number: number, code: RejectionCode, error: string): SectorResult => ({
  number,
  ...rejected(code, error),
});

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/**
 * The devnet's storage market actor: deals are published (validated like PublishStorageDeals), a PreCommit
 * naming deals is checked against them (this provider's, not started, not in another sector, CommD equal to
 * the library's compute_comm_d over their pieces), a landed ProveCommit activates them, and a deal whose
 * start epoch passes before that expires.
 */
export class StorageMarket {
  constructor(
    private readonly db: DevnetStore,
    private readonly clock: DevnetClock,
    private readonly commD: CommDCalculator,
  ) {}

  /** Publishes a deal; the same proposal again answers the deal it made. Throws DealRejectedError. */
  publish(input: DealProposalParams): OnChainDeal {
    const checked = v.safeParse(DealProposalParamsSchema, input);
    if (!checked.success) {
      const issue = checked.issues[0];
      throw new DealRejectedError("malformed", `deal proposal ${v.getDotPath(issue) ?? ""}: ${issue.message}`);
    }
    const proposal = checked.output;
    // Parsed output has the schema's key order, so equal proposals hash equally; the client's address is
    // compared whatever network prefix it was written with (f0100 and t0100 are one account).
    const hash = createHash("sha256")
      .update(JSON.stringify({ ...proposal, client: sameAccount(proposal.client) }))
      .digest("hex");
    return this.db.transaction(() => {
      const known = this.db.dealIdByProposal(hash);
      const existing = known === undefined ? undefined : this.db.deal(known);
      if (existing) return existing;
      const head = this.clock.headEpoch();
      const problem = this.validate(proposal, head);
      if (problem) throw new DealRejectedError(problem.code, problem.error);
      const deal: OnChainDeal = { id: this.db.takeDealId(), proposal, state: "published", publishEpoch: head };
      this.db.putDeal(deal);
      this.db.putDealProposal(hash, deal.id);
      log.info(
        `deal ${deal.id} published: piece ${proposal.pieceCid} (${proposal.pieceSize} bytes) for f0${proposal.provider}, epochs ${proposal.startEpoch}..${proposal.endEpoch}`,
      );
      return deal;
    });
  }

  deal(id: number): OnChainDeal | undefined {
    return this.db.deal(id);
  }

  /** Epochs at which a waiting deal expires (the epoch after its start epoch). */
  nextEvents(): number[] {
    return this.db.openDeals().map((d) => d.proposal.startEpoch + 1);
  }

  /** Deals still waiting when their start epoch has passed at `epoch` expire. */
  expireDeals(epoch: number): void {
    for (const d of this.db.openDeals()) {
      if (d.proposal.startEpoch >= epoch) continue;
      this.db.putDeal({ ...d, state: "expired", closedEpoch: epoch });
      log.info(`deal ${d.id} expired at epoch ${epoch}: its start epoch ${d.proposal.startEpoch} passed unactivated`);
    }
  }

  /**
   * Before the epoch's transaction: for each PreCommit naming deals, whether its CommD is the one the
   * proofs library computes from the deals' pieces. Deals are immutable once published, so the verdict
   * holds when the transaction applies it; the rules that depend on state are checked there.
   */
  async checkPreCommitData(msg: { from: number; sectors: PreCommitParams[] }): Promise<SectorVerdicts> {
    const verdicts: SectorVerdicts = new Map();
    const miner = this.db.miner(msg.from);
    if (!miner) return verdicts;
    for (const p of msg.sectors) {
      if (p.dealIds.length > 0) verdicts.set(p.number, await this.checkCommD(miner, p));
    }
    return verdicts;
  }

  /**
   * The unsealed commitment of a sector holding `dealIds`' pieces in order, zero-filled (the market's
   * ComputeDataCommitment), or why it cannot be computed.
   */
  async dealsCommD(
    miner: StoredMiner,
    number: number,
    dealIds: readonly number[],
  ): Promise<{ ok: true; commD: Uint8Array } | SectorResult> {
    const pieces: DataPiece[] = [];
    for (const id of dealIds) {
      const d = this.db.deal(id);
      if (!d) return fail(number, "deal-invalid", `deal ${id} does not exist`);
      pieces.push({ commP: pieceCommitment(d.proposal.pieceCid), paddedSize: d.proposal.pieceSize });
    }
    const used = pieces.reduce((n, piece) => n + piece.paddedSize, 0);
    if (used > miner.sectorSize)
      return fail(number, "deal-invalid", `the deals' pieces need ${used} bytes; the sector has ${miner.sectorSize}`);
    try {
      return { ok: true, commD: await this.commD.computeCommD(miner.sealProofType, pieces) };
    } catch (err) {
      return fail(number, "unverifiable", `CommD of the deals could not be computed: ${(err as Error).message}`);
    }
  }

  private checkCommD(miner: StoredMiner, p: PreCommitParams): Promise<SectorResult> {
    return this.checkCommDOf(miner, p.number, p.dealIds, p.commD);
  }

  /** Whether `commD` (declared by the PreCommit) is the commitment of the pieces of `dealIds`. */
  async checkCommDOf(
    miner: StoredMiner,
    number: number,
    dealIds: readonly number[],
    commD: ArrayLike<number>,
  ): Promise<SectorResult> {
    const computed = await this.dealsCommD(miner, number, dealIds);
    if (!("commD" in computed)) return computed;
    const declared = commDToCid(commD);
    const expected = commDToCid(computed.commD);
    if (declared !== expected) {
      return fail(
        number,
        "commd-mismatch",
        `CommD ${declared} is not the commitment of deals ${dealIds.join(", ")} (${expected})`,
      );
    }
    return { number, ok: true };
  }

  /** In the epoch's transaction: the deal rules of one PreCommit; undefined when it may land. */
  checkPreCommit(
    miner: StoredMiner,
    p: PreCommitParams,
    epoch: number,
    verdict: SectorResult | undefined,
  ): SectorResult | undefined {
    if (p.dealIds.length === 0) return undefined;
    if (new Set(p.dealIds).size !== p.dealIds.length)
      return fail(p.number, "deal-invalid", `deal ids ${p.dealIds.join(", ")} name a deal twice`);
    const elsewhere = this.dealsInOtherPreCommits(miner.actor, p.number);
    for (const id of p.dealIds) {
      const d = this.db.deal(id);
      if (!d) return fail(p.number, "deal-invalid", `deal ${id} does not exist`);
      if (d.proposal.provider !== miner.actor)
        return fail(p.number, "deal-foreign", `deal ${id} belongs to provider f0${d.proposal.provider}`);
      if (d.state === "active")
        return fail(p.number, "deal-in-use", `deal ${id} is already active in sector ${d.sectorNumber}`);
      const other = elsewhere.get(id);
      if (other !== undefined) return fail(p.number, "deal-in-use", `deal ${id} is pre-committed in sector ${other}`);
      if (d.state !== "published" || epoch > d.proposal.startEpoch) {
        return fail(
          p.number,
          "deal-started",
          `deal ${id} started at epoch ${d.proposal.startEpoch} (now ${epoch}); it can no longer be sealed`,
        );
      }
      if (d.proposal.endEpoch > epoch + SECTOR_LIFETIME_EPOCHS)
        return fail(p.number, "deal-invalid", `deal ${id} ends at epoch ${d.proposal.endEpoch}, after the sector`);
    }
    if (!verdict) return fail(p.number, "internal", "the deals' CommD was not checked");
    return verdict.ok ? undefined : verdict;
  }

  /**
   * ProveReplicaUpdates, and a ProveCommit whose pieces carry the deals (builtin's way), in the epoch's
   * transaction: whether `dealIds` can be activated in sector `number` at `epoch` (this provider's, each once, waiting, not pre-committed elsewhere, not started,
   * ending by the sector's expiration); undefined when they can.
   */
  checkUpdateDeals(
    actor: number,
    number: number,
    dealIds: readonly number[],
    epoch: number,
    expiration: number,
  ): SectorResult | undefined {
    if (dealIds.length === 0)
      return fail(
        number,
        "malformed",
        `the update of sector ${number} names no deals; only deal data updates a sector`,
      );
    if (new Set(dealIds).size !== dealIds.length)
      return fail(number, "deal-invalid", `deal ids ${dealIds.join(", ")} name a deal twice`);
    const elsewhere = this.dealsInOtherPreCommits(actor, -1);
    for (const id of dealIds) {
      const d = this.db.deal(id);
      if (!d) return fail(number, "deal-invalid", `deal ${id} does not exist`);
      if (d.proposal.provider !== actor)
        return fail(number, "deal-foreign", `deal ${id} belongs to provider f0${d.proposal.provider}`);
      const other = elsewhere.get(id);
      if (other !== undefined) return fail(number, "deal-in-use", `deal ${id} is pre-committed in sector ${other}`);
      if (d.proposal.endEpoch > expiration)
        return fail(
          number,
          "deal-invalid",
          `deal ${id} ends at epoch ${d.proposal.endEpoch}, after sector ${number} expires (${expiration})`,
        );
    }
    return this.checkActivation(actor, number, [...dealIds], epoch);
  }

  /** ProveCommit: whether the sector's deals can be activated at `epoch`; undefined when they can. */
  checkActivation(actor: number, number: number, dealIds: number[], epoch: number): SectorResult | undefined {
    for (const id of dealIds) {
      const d = this.db.deal(id);
      if (!d || d.proposal.provider !== actor) return fail(number, "deal-invalid", `deal ${id} is not this miner's`);
      if (d.state === "active")
        return fail(number, "deal-in-use", `deal ${id} is already active in sector ${d.sectorNumber}`);
      if (d.state !== "published" || epoch > d.proposal.startEpoch)
        return fail(number, "deal-started", `deal ${id} started at epoch ${d.proposal.startEpoch} before activation`);
    }
    return undefined;
  }

  /** Activates the deals of a sector whose ProveCommit landed (checked with checkActivation first). */
  activate(number: number, dealIds: number[], epoch: number): void {
    for (const id of dealIds) {
      const d = this.db.deal(id);
      if (d) this.db.putDeal({ ...d, state: "active", sectorNumber: number, activationEpoch: epoch });
    }
    if (dealIds.length > 0) log.info(`deals ${dealIds.join(", ")} activated in sector ${number} at epoch ${epoch}`);
  }

  /** Deal id → sector number of the miner's other PreCommits still on chain. */
  private dealsInOtherPreCommits(actor: number, number: number): Map<number, number> {
    const used = new Map<number, number>();
    const own = K.precommit(actor, number);
    const miners = `${K.precommits}${actor}/`;
    for (const { key, value: pc } of this.db.precommits()) {
      if (key === own || !key.startsWith(miners)) continue;
      for (const id of pc.dealIds) used.set(id, pc.number);
    }
    return used;
  }

  private validate(p: DealProposalParams, head: number): { code: RejectionCode; error: string } | undefined {
    const invalid = (error: string) => ({ code: "deal-invalid" as const, error });
    const miner = this.db.miner(p.provider);
    if (!miner) return { code: "unknown-miner", error: `provider f0${p.provider} is not a miner on this chain` };
    try {
      pieceCommitment(p.pieceCid);
    } catch (err) {
      if (err instanceof CommitmentCidError) return invalid(err.message);
      throw err;
    }
    if (!isPowerOfTwo(p.pieceSize) || p.pieceSize < MIN_PIECE_SIZE)
      return invalid(`piece size ${p.pieceSize} is not a power of two of at least ${MIN_PIECE_SIZE} bytes`);
    if (p.pieceSize > miner.sectorSize)
      return invalid(`piece size ${p.pieceSize} exceeds the provider's ${miner.sectorSize}-byte sectors`);
    if (p.startEpoch <= head) return invalid(`start epoch ${p.startEpoch} is not after the head ${head}`);
    if (p.endEpoch <= p.startEpoch) return invalid(`end epoch ${p.endEpoch} is not after start ${p.startEpoch}`);
    if (p.endEpoch - p.startEpoch > SECTOR_LIFETIME_EPOCHS)
      return invalid(`the deal runs ${p.endEpoch - p.startEpoch} epochs; at most ${SECTOR_LIFETIME_EPOCHS}`);
    if (p.label.length > MAX_LABEL_LENGTH) return invalid(`label longer than ${MAX_LABEL_LENGTH} characters`);
    return undefined;
  }
}

/** An address in one spelling for comparisons (its mainnet form); text that is no address stays as it is. */
function sameAccount(text: string): string {
  try {
    return withNetwork(parseAddress(text), "mainnet").string;
  } catch {
    return text;
  }
}

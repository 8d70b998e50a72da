import {
  type AllocatedSector,
  b64,
  cidToCommitment,
  commDToCid,
  commRToCid,
  fromB64,
  type PreCommitInfo,
  type PreCommitOnChainInfo,
  type ProofOnChainInfo,
  type SectorID,
  type SectorState,
  type SubmitResp,
  SubmitResult,
  sectorName,
  type WaitSeedResp,
  zeroCommD,
} from "../../core/sector/index.ts";
import type { Collection } from "../../core/store/index.ts";
import { InvalidProofError } from "../../devnet/index.ts";
import type { CommitDeps, PreCommitDealsVerdict } from "./deps.ts";
import type { CommitMessages } from "./message-state.ts";
import type { CommitKind, PendingEntry } from "./policy.ts";
import { KEY } from "./records.ts";

const resp = (Res: number, Desc: string | null = null): SubmitResp => ({ Res, Desc });

function sameBytes(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * SubmitPreCommit/SubmitProof: the checks lotus makes before it accepts a commitment, the seed hand-out
 * between them, and acceptance: the sector's state and its pending mark written together, durably, before
 * the worker hears Accepted. A resubmission is only taken once the previous message has failed for good.
 */
export class CommitSubmissions {
  constructor(
    private readonly deps: CommitDeps,
    private readonly kv: Collection,
    private readonly messages: CommitMessages,
    private readonly now: () => number,
    /** Tells the batcher a sector is pending. */
    private readonly kick: (actor: number, kind: CommitKind) => void,
  ) {}

  async submitPreCommit(sector: AllocatedSector, info: PreCommitOnChainInfo, reset: boolean): Promise<SubmitResp> {
    const sid = sector.ID;
    const state = this.deps.states.mustOnline(sid);
    if (sector.ProofType !== state.SectorType) {
      return resp(
        SubmitResult.Rejected,
        `proof type ${sector.ProofType} differs from the allocated ${state.SectorType}`,
      );
    }
    const pre: PreCommitInfo = {
      CommR: { "/": commRToCid(info.CommR) },
      CommD: { "/": commDToCid(info.CommD) },
      Ticket: info.Ticket,
      Deals: info.Deals ?? null,
    };
    const sameContent = (p: PreCommitInfo) =>
      p.CommR["/"] === pre.CommR["/"] &&
      p.CommD["/"] === pre.CommD["/"] &&
      p.Ticket.Ticket === pre.Ticket.Ticket &&
      p.Ticket.Epoch === pre.Ticket.Epoch;

    if (state.Pre) {
      const resubmittable = reset && (await this.messages.isFinalFailure(state.MessageInfo.PreCommitCid?.["/"], sid));
      if (!resubmittable) {
        if (sameContent(state.Pre)) return resp(SubmitResult.DuplicateSubmit, null);
        return resp(
          SubmitResult.MismatchedSubmission,
          `${sectorName(sid)} already has a different PreCommit (CommR ${state.Pre.CommR["/"]}); it can only be replaced after its message failed`,
        );
      }
    }

    const checked = await this.checkPreCommit(state, info);
    if ("Res" in checked) return checked;
    // The manager fills the deal ids from the sector's assigned pieces, whatever the worker sent (as the original).
    pre.Deals = checked.dealIds.length > 0 ? checked.dealIds : (info.Deals ?? null);

    const now = this.now();
    await this.deps.store.durable(() => {
      this.deps.states.update(sid, (s) => {
        s.Pre = pre;
        s.Ticket = info.Ticket;
        s.MessageInfo = { PreCommitCid: null, CommitCid: null, NeedSend: true };
        s.CommitPendingSince = now;
      });
      this.kv.putJSON(KEY.pending("pre", sid.Miner, sid.Number), { since: now } satisfies PendingEntry);
    });
    this.deps.metrics?.preCommitSubmitted.inc({ miner: sid.Miner });
    this.kick(sid.Miner, "pre");
    return resp(SubmitResult.Accepted);
  }

  /** The checks lotus' checkPrecommit makes, against this manager's chain; the deal ids the PreCommit carries. */
  private async checkPreCommit(
    state: SectorState,
    info: PreCommitOnChainInfo,
  ): Promise<SubmitResp | { dealIds: number[] }> {
    const { chain } = this.deps;
    const sid = state.ID;
    const head = (await chain.head()).epoch;
    const policy = chain.policy();
    const t = info.Ticket;
    // A ticket of the current head is real randomness; the chain itself requires it to precede the
    // PreCommit's landing epoch, which is always later. Only a ticket from the future is forged.
    if (t.Epoch > head) return resp(SubmitResult.Rejected, `ticket epoch ${t.Epoch} is after the chain head ${head}`);
    if (t.Epoch < head - policy.maxTicketAge) {
      return resp(
        SubmitResult.Rejected,
        `ticket expired: epoch ${t.Epoch} is more than ${policy.maxTicketAge} epochs before head ${head}; the sector must be sealed again with a new ticket`,
      );
    }
    const expected = await chain.ticketRandomness(sid.Miner, t.Epoch);
    if (!sameBytes(fromB64(t.Ticket), expected)) {
      return resp(
        SubmitResult.Rejected,
        `ticket does not match the chain's randomness at epoch ${t.Epoch} for miner ${sid.Miner}`,
      );
    }
    const deals = await this.checkDeals(state, info);
    if ("Res" in deals) return deals;
    const miner = this.deps.miners().find((m) => m.actor === sid.Miner);
    const hasData = (state.Pieces?.length ?? 0) > 0;
    if (miner && !hasData && !sameBytes(info.CommD, zeroCommD(miner.sectorSize))) {
      return resp(
        SubmitResult.MismatchedSubmission,
        `CommD ${commDToCid(info.CommD)} is not the commitment of an empty (CC) ${miner.sectorSize}-byte sector (${commDToCid(zeroCommD(miner.sectorSize))})`,
      );
    }
    if (await chain.isSectorNumberAllocated(sid.Miner, sid.Number)) {
      return resp(
        SubmitResult.Rejected,
        `sector number ${sid.Number} is already allocated on chain for miner ${sid.Miner}`,
      );
    }
    return deals;
  }

  /** The sector's deals as the market checks them; deal ids the worker names must be exactly those. */
  private async checkDeals(
    state: SectorState,
    info: PreCommitOnChainInfo,
  ): Promise<SubmitResp | { dealIds: number[] }> {
    const verdict: PreCommitDealsVerdict = this.deps.deals
      ? await this.deps.deals.preCommitDeals(state, info.CommD)
      : { ok: true, dealIds: [] };
    if (!verdict.ok) return resp(verdict.res, verdict.desc);
    const named = info.Deals ?? [];
    if (named.length > 0 && named.join(",") !== verdict.dealIds.join(",")) {
      return resp(
        SubmitResult.Rejected,
        `the PreCommit names deals ${named.join(", ")}, but ${sectorName(state.ID)} was assigned ${verdict.dealIds.length > 0 ? `deals ${verdict.dealIds.join(", ")}` : "no deals"} by AcquireDeals`,
      );
    }
    return { dealIds: verdict.dealIds };
  }

  async waitSeed(sid: SectorID): Promise<WaitSeedResp> {
    const state = this.deps.states.mustOnline(sid);
    const { chain } = this.deps;
    const policy = chain.policy();
    const pc = await chain.preCommitInfo(sid.Miner, sid.Number);
    const preCommitEpoch = pc?.preCommitEpoch;
    if (preCommitEpoch === undefined) {
      if (state.Seed && (await chain.sectorInfo(sid.Miner, sid.Number)))
        return { ShouldWait: false, Delay: 0, Seed: state.Seed };
      throw new Error(`no PreCommit on chain for ${sectorName(sid)} yet; wait for PollPreCommitState to say Landed`);
    }
    const seedEpoch = preCommitEpoch + policy.preCommitChallengeDelay;
    const readyAt = seedEpoch + policy.interactivePoRepConfidence;
    const head = (await chain.head()).epoch;
    if (head < readyAt) {
      return {
        ShouldWait: true,
        Delay: Math.max(1, Math.ceil(((readyAt - head) * policy.blockTimeMs) / 1000)),
        Seed: null,
      };
    }
    const seed = { Seed: b64(await chain.interactiveSeedRandomness(sid.Miner, seedEpoch)), Epoch: seedEpoch };
    if (state.Seed?.Seed !== seed.Seed || state.Seed?.Epoch !== seed.Epoch)
      this.deps.states.update(sid, (s) => (s.Seed = seed));
    return { ShouldWait: false, Delay: 0, Seed: seed };
  }

  async submitProof(sid: SectorID, proof: ProofOnChainInfo, reset: boolean): Promise<SubmitResp> {
    const state = this.deps.states.mustOnline(sid);
    if (!state.Pre)
      return resp(SubmitResult.Rejected, `${sectorName(sid)} has no PreCommit; a proof cannot be submitted`);
    if (!state.Seed)
      return resp(
        SubmitResult.MismatchedSubmission,
        `${sectorName(sid)} has no seed yet; call WaitSeed until it returns one`,
      );
    if (state.Proof) {
      const resubmittable = reset && (await this.messages.isFinalFailure(state.MessageInfo.CommitCid?.["/"], sid));
      if (!resubmittable) {
        if (state.Proof.Proof === proof.Proof) return resp(SubmitResult.DuplicateSubmit);
        return resp(
          SubmitResult.MismatchedSubmission,
          `${sectorName(sid)} already has a different proof; it can only be replaced after its message failed`,
        );
      }
    }
    if (await this.deps.chain.sectorInfo(sid.Miner, sid.Number))
      return resp(SubmitResult.DuplicateSubmit, `${sectorName(sid)} is already proven on chain`);
    if (!(await this.deps.chain.preCommitInfo(sid.Miner, sid.Number))) {
      return resp(SubmitResult.Rejected, `no PreCommit on chain for ${sectorName(sid)} (it expired or never landed)`);
    }

    let valid: boolean;
    let malformed = "";
    try {
      valid = await this.deps.verifier.verifySeal({
        sealProof: state.SectorType,
        commR: cidToCommitment(state.Pre.CommR["/"], "sealed"),
        commD: cidToCommitment(state.Pre.CommD["/"], "unsealed"),
        minerId: sid.Miner,
        sectorNumber: sid.Number,
        ticket: fromB64(state.Pre.Ticket.Ticket),
        seed: fromB64(state.Seed.Seed),
        proof: fromB64(proof.Proof),
      });
    } catch (err) {
      // Not a verdict (no addon, no parameters): the worker gets an error and retries later.
      if (!(err instanceof InvalidProofError)) throw err;
      valid = false;
      malformed = ` (${err.reason})`;
    }
    if (!valid) {
      return resp(
        SubmitResult.Rejected,
        `invalid proof for ${sectorName(sid)}: verify_seal rejected it for the sector's commitments, ticket (epoch ${state.Pre.Ticket.Epoch}) and seed (epoch ${state.Seed.Epoch})${malformed}`,
      );
    }

    // MaxWait of ProveCommit batches counts from the seed epoch, as in the original.
    const head = await this.deps.chain.head();
    const since = head.timestamp - (head.epoch - state.Seed.Epoch) * this.deps.chain.policy().blockTimeMs;
    await this.deps.store.durable(() => {
      this.deps.states.update(sid, (s) => {
        s.Proof = proof;
        s.MessageInfo = { ...s.MessageInfo, CommitCid: null, NeedSend: true };
        s.CommitPendingSince = since;
      });
      this.kv.putJSON(KEY.pending("prove", sid.Miner, sid.Number), { since } satisfies PendingEntry);
    });
    this.deps.metrics?.proofSubmitted.inc({ miner: sid.Miner });
    this.kick(sid.Miner, "prove");
    return resp(SubmitResult.Accepted);
  }

  /** Drops a sector's pending marks (abort): it will not be put into a batch any more. */
  forget(sid: SectorID): void {
    for (const kind of ["pre", "prove", "snap"] as const) this.kv.del(KEY.pending(kind, sid.Miner, sid.Number));
  }
}

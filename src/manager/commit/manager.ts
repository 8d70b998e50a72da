import { childLogger } from "../../core/log/index.ts";
import {
  type AllocatedSector,
  b64,
  cidToCommitment,
  commDToCid,
  commRToCid,
  fromB64,
  OnChainState,
  type PollStateResp,
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
import type { Collection, KVStore } from "../../core/store/index.ts";
import { type Chain, type ChainMessage, ExitCode, type MessageLookup, messageId } from "../chain/chain.ts";
import { InvalidProofError, type SealVerifier } from "../chain/verifier.ts";
import type { ManagerMetrics } from "../metrics.ts";
import type { SectorStates } from "../sectors/states.ts";
import { batchDue, type CommitKind, type CommitMiner, MAX_SECTORS_PER_MESSAGE, type PendingEntry } from "./policy.ts";

const log = childLogger("commit");

/**
 * Commitments: SubmitPreCommit/SubmitProof checks and acceptance, the batchers that turn accepted
 * submissions into PreCommitSectorBatch2/ProveCommitSectors3 messages, and the Poll* answers.
 *
 * Crash safety (transactional outbox): a batch is one transaction that writes the message into the
 * outbox, stamps its id on every sector and clears their pending marks; it is on disk before it is
 * pushed; after
 * a crash the outbox is pushed again, and since the id is a hash of the message, the chain recognises the
 * repeat. Nothing is sent twice, nothing accepted is lost.
 */

interface Inflight {
  actor: number;
  method: ChainMessage["method"];
  sectors: number[];
}

const KEY = {
  pending: (kind: CommitKind, actor: number, n?: number) => `commit/pending/${kind}/${actor}/${n ?? ""}`,
  outbox: (cid: string) => `commit/outbox/${cid}`,
  inflight: (cid: string) => `commit/inflight/${cid}`,
  nonce: (actor: number) => `commit/nonce/${actor}`,
};

export interface CommitDeps {
  store: KVStore;
  states: SectorStates;
  chain: Chain;
  verifier: SealVerifier;
  miners: () => CommitMiner[];
  metrics?: ManagerMetrics;
  now?: () => number;
}

const resp = (Res: number, Desc: string | null = null): SubmitResp => ({ Res, Desc });
const poll = (State: number, Desc: string | null = null): PollStateResp => ({ State, Desc });

function sameBytes(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class CommitManager {
  private readonly kv: Collection;
  private readonly now: () => number;
  private timers: ReturnType<typeof setInterval>[] = [];
  private readonly flushing = new Map<string, Promise<void>>();

  constructor(private readonly deps: CommitDeps) {
    this.kv = deps.store.collection("common");
    this.now = deps.now ?? Date.now;
  }

  private miner(actor: number): CommitMiner | undefined {
    return this.deps.miners().find((m) => m.actor === actor);
  }

  // ---------------------------------------------------------------- PreCommit

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
      const resubmittable = reset && (await this.messageIsFinalFailure(state.MessageInfo.PreCommitCid?.["/"], sid));
      if (!resubmittable) {
        if (sameContent(state.Pre)) return resp(SubmitResult.DuplicateSubmit, null);
        return resp(
          SubmitResult.MismatchedSubmission,
          `${sectorName(sid)} already has a different PreCommit (CommR ${state.Pre.CommR["/"]}); it can only be replaced after its message failed`,
        );
      }
    }

    const problem = await this.checkPreCommit(state, info);
    if (problem) return problem;

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

  /** The checks lotus' checkPrecommit makes, against this manager's chain. */
  private async checkPreCommit(state: SectorState, info: PreCommitOnChainInfo): Promise<SubmitResp | undefined> {
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
    const miner = this.miner(sid.Miner);
    const hasDeals = (info.Deals?.length ?? 0) > 0 || (state.Pieces?.length ?? 0) > 0;
    if (miner && !hasDeals && !sameBytes(info.CommD, zeroCommD(miner.sectorSize))) {
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
    return undefined;
  }

  async pollPreCommitState(sid: SectorID): Promise<PollStateResp> {
    const state = this.deps.states.mustOnline(sid);
    if (!state.Pre) return poll(OnChainState.NotFound, `no PreCommit was submitted for ${sectorName(sid)}`);
    return this.pollMessage(state, "pre");
  }

  // ---------------------------------------------------------------- seed and proof

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
      const resubmittable = reset && (await this.messageIsFinalFailure(state.MessageInfo.CommitCid?.["/"], sid));
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
        commR: cidToCommitment(state.Pre.CommR["/"]),
        commD: cidToCommitment(state.Pre.CommD["/"]),
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

  async pollProofState(sid: SectorID): Promise<PollStateResp> {
    const state = this.deps.states.mustOnline(sid);
    if (!state.Proof) return poll(OnChainState.NotFound, `no proof was submitted for ${sectorName(sid)}`);
    return this.pollMessage(state, "prove");
  }

  /** Drops a sector's pending marks (abort): it will not be put into a batch any more. */
  forget(sid: SectorID): void {
    this.kv.del(KEY.pending("pre", sid.Miner, sid.Number));
    this.kv.del(KEY.pending("prove", sid.Miner, sid.Number));
  }

  // ---------------------------------------------------------------- message state

  private async messageIsFinalFailure(cid: string | undefined, sid: SectorID): Promise<boolean> {
    if (!cid)
      return (
        !this.kv.has(KEY.pending("pre", sid.Miner, sid.Number)) &&
        !this.kv.has(KEY.pending("prove", sid.Miner, sid.Number))
      );
    const look = await this.deps.chain.messageLookup(cid);
    if (!look) return !this.kv.has(KEY.outbox(cid));
    if (look.status === "failed") return true;
    if (look.status === "landed") return look.results?.find((r) => r.number === sid.Number)?.ok === false;
    return false;
  }

  private async pollMessage(state: SectorState, kind: CommitKind): Promise<PollStateResp> {
    const sid = state.ID;
    const cid = (kind === "pre" ? state.MessageInfo.PreCommitCid : state.MessageInfo.CommitCid)?.["/"];
    if (!cid) {
      return state.MessageInfo.NeedSend
        ? poll(OnChainState.Pending, "waiting for the batch to be sent")
        : poll(OnChainState.Failed, "no message was sent for this submission; submit again");
    }
    const look = await this.deps.chain.messageLookup(cid);
    if (!look) {
      return this.kv.has(KEY.outbox(cid))
        ? poll(OnChainState.Pending, `message ${cid} is waiting to be pushed`)
        : poll(OnChainState.Failed, `message ${cid} is unknown to the chain; submit again`);
    }
    const result = look.results?.find((r) => r.number === sid.Number);
    switch (look.status) {
      case "pending":
        return poll(OnChainState.Pending, `message ${cid} is in the message pool`);
      case "packed":
        return poll(
          OnChainState.Packed,
          `message ${cid} was included at epoch ${look.packedEpoch}; waiting for confidence`,
        );
      case "failed":
        if (look.exitCode === ExitCode.SysErrOutOfGas || look.exitCode === ExitCode.SysErrInsufficientFunds) {
          return poll(
            OnChainState.Failed,
            `message ${cid} failed with exit code ${look.exitCode}: ${look.error ?? ""}`,
          );
        }
        if (result && !result.ok) return this.sectorRejected(kind, cid, result.error ?? "rejected");
        return poll(
          OnChainState.PermFailed,
          `message ${cid} failed with exit code ${look.exitCode}: ${look.error ?? ""}`,
        );
      case "landed": {
        if (result && !result.ok) return this.sectorRejected(kind, cid, result.error ?? "rejected");
        const { chain } = this.deps;
        if (kind === "pre") {
          if ((await chain.preCommitInfo(sid.Miner, sid.Number)) || (await chain.sectorInfo(sid.Miner, sid.Number))) {
            return poll(OnChainState.Landed);
          }
          return poll(
            OnChainState.ShouldAbort,
            `PreCommit message ${cid} landed but the PreCommit is no longer on chain (expired)`,
          );
        }
        if (await chain.sectorInfo(sid.Miner, sid.Number)) return poll(OnChainState.Landed);
        return poll(
          OnChainState.ShouldAbort,
          `ProveCommit message ${cid} landed but ${sectorName(sid)} is not active on chain`,
        );
      }
    }
  }

  private sectorRejected(kind: CommitKind, cid: string, error: string): PollStateResp {
    const desc = `${kind === "pre" ? "PreCommit" : "ProveCommit"} rejected by the chain in message ${cid}: ${error}`;
    if (error.startsWith("too early")) return poll(OnChainState.Failed, desc);
    // A bad proof may come from a faulty C2 run: pause the worker so the operator can redo C2.
    if (kind === "prove" && error.startsWith("invalid seal proof")) return poll(OnChainState.PermFailed, desc);
    return poll(OnChainState.ShouldAbort, desc);
  }

  // ---------------------------------------------------------------- batching

  /** Starts the per-miner batch checks and pushes anything a crash left in the outbox. */
  async start(): Promise<void> {
    await this.pushOutbox();
    for (const m of this.deps.miners()) {
      for (const kind of ["pre", "prove"] as const) {
        const policy = m[kind];
        this.timers.push(setInterval(() => this.kick(m.actor, kind), Math.max(50, policy.checkIntervalMs)));
      }
    }
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** Checks one miner's batch now (after a submission, on each tick). Concurrent kicks share one run. */
  kick(actor: number, kind: CommitKind, manual = false): Promise<void> {
    const key = `${actor}/${kind}`;
    const running = this.flushing.get(key);
    if (running) return running;
    const run = this.checkBatch(actor, kind, manual)
      .catch((err) => log.error(`batch check of miner ${actor} (${kind}) failed:`, err))
      .finally(() => this.flushing.delete(key));
    this.flushing.set(key, run);
    return run;
  }

  pendingCount(actor: number, kind: CommitKind): number {
    return this.kv.count(KEY.pending(kind, actor));
  }

  private async checkBatch(actor: number, kind: CommitKind, manual: boolean): Promise<void> {
    await this.pushOutbox();
    const miner = this.miner(actor);
    if (!miner) return;
    const pending = this.kv.scanJSON<PendingEntry>(KEY.pending(kind, actor)).map((e) => e.value);
    if (!batchDue(miner[kind], pending, this.now(), manual)) return;
    this.buildBatches(actor, kind);
    // The outbox records must be on disk before anything leaves the process.
    await this.deps.store.sync();
    await this.pushOutbox();
  }

  /** One transaction: outbox messages written, sectors stamped, pending marks cleared. */
  private buildBatches(actor: number, kind: CommitKind): void {
    this.deps.store.transaction(() => {
      const entries = this.kv.scan(KEY.pending(kind, actor));
      const states: SectorState[] = [];
      for (const e of entries) {
        const number = Number(e.key.slice(KEY.pending(kind, actor).length));
        const state = this.deps.states.get("online", { Miner: actor, Number: number });
        const ready =
          state?.MessageInfo.NeedSend &&
          (kind === "pre" ? state.Pre && !state.MessageInfo.PreCommitCid : state.Proof && !state.MessageInfo.CommitCid);
        if (ready) states.push(state);
        else this.kv.del(e.key);
      }
      for (let i = 0; i < states.length; i += MAX_SECTORS_PER_MESSAGE) {
        const chunk = states.slice(i, i + MAX_SECTORS_PER_MESSAGE);
        const nonce = (this.kv.getJSON<number>(KEY.nonce(actor)) ?? 0) + 1;
        this.kv.putJSON(KEY.nonce(actor), nonce);
        const msg: ChainMessage =
          kind === "pre"
            ? {
                from: actor,
                nonce,
                method: "PreCommitSectorBatch2",
                sectors: chunk.map((s) => ({
                  number: s.ID.Number,
                  sealProof: s.SectorType,
                  commR: [...cidToCommitment(s.Pre!.CommR["/"])],
                  commD: [...cidToCommitment(s.Pre!.CommD["/"])],
                  sealRandEpoch: s.Pre!.Ticket.Epoch,
                  dealIds: s.Pre!.Deals ?? [],
                })),
              }
            : {
                from: actor,
                nonce,
                method: "ProveCommitSectors3",
                sectors: chunk.map((s) => ({ number: s.ID.Number, proof: s.Proof!.Proof })),
              };
        const cid = messageId(msg);
        this.kv.putJSON(KEY.outbox(cid), msg);
        this.kv.putJSON(KEY.inflight(cid), {
          actor,
          method: msg.method,
          sectors: chunk.map((s) => s.ID.Number),
        } satisfies Inflight);
        for (const s of chunk) {
          this.deps.states.update(s.ID, (st) => {
            st.MessageInfo =
              kind === "pre"
                ? { ...st.MessageInfo, PreCommitCid: { "/": cid }, NeedSend: false }
                : { ...st.MessageInfo, CommitCid: { "/": cid }, NeedSend: false };
            delete st.CommitPendingSince;
          });
          this.kv.del(KEY.pending(kind, actor, s.ID.Number));
        }
        log.info(
          `miner ${actor}: ${msg.method} ${cid} with ${chunk.length} sector(s): ${chunk.map((s) => s.ID.Number).join(", ")}`,
        );
      }
    });
  }

  private async pushOutbox(): Promise<void> {
    for (const { key, value: msg } of this.kv.scanJSON<ChainMessage>("commit/outbox/")) {
      const cid = key.slice("commit/outbox/".length);
      try {
        const pushed = await this.deps.chain.pushMessage(msg);
        if (pushed !== cid) log.error(`chain answered id ${pushed} for message ${cid}; tracking ${cid}`);
        this.kv.del(key);
        this.deps.metrics?.messagesPushed.inc({ miner: msg.from, method: msg.method });
      } catch (err) {
        log.warn(`pushing message ${cid} failed, will retry: ${(err as Error).message}`);
      }
    }
  }

  /** Counts messages that reached a final state (metrics); cheap, called once per epoch. */
  async observeLandings(): Promise<void> {
    for (const { key, value } of this.kv.scanJSON<Inflight>("commit/inflight/")) {
      const cid = key.slice("commit/inflight/".length);
      let look: MessageLookup | undefined;
      try {
        look = await this.deps.chain.messageLookup(cid);
      } catch {
        continue;
      }
      if (!look || (look.status !== "landed" && look.status !== "failed")) continue;
      this.kv.del(key);
      const m = this.deps.metrics;
      if (!m) continue;
      m.messagesDone.inc({ miner: value.actor, method: value.method, result: look.status });
      const kind = value.method === "PreCommitSectorBatch2" ? "precommit" : "provecommit";
      for (const n of value.sectors) {
        const ok = look.status === "landed" && look.results?.find((r) => r.number === n)?.ok !== false;
        m.sectorsLanded.inc({ miner: value.actor, kind, result: ok ? "ok" : "rejected" });
      }
    }
  }

  /** For tests and the bench: what is waiting in the outbox. */
  outboxSize(): number {
    return this.kv.count("commit/outbox/");
  }
}

/**
 * One simulated sealing thread of a damocles worker running the sealer plan, as a state machine so a run
 * can pace it (seal_interval after a finished sector, rpc_polling_interval between chain polls) or drive
 * it flat out. Every step is the RPC sequence the worker sends (ReportState after each stage); stages
 * themselves are instant, proofs simulated. The client is bare fetch + JSON (no result validation) so the
 * generator spends as little CPU per call as it can, the same for the manager and the bare endpoint.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Venus } from "../../src/core/sector/api.ts";
import { OnChainState, SubmitResult, zeroCommD } from "../../src/core/sector/index.ts";

/** Called once per finished call: method, latency, end time (performance.now()), whether it failed. */
export type CallRecorder = (method: string, ms: number, endedAt: number, ok: boolean, result: unknown) => void;

export class RpcFailure extends Error {}

/** JSON-RPC over HTTP with keep-alive (Bun's fetch pools connections) and the bearer token. */
export class BenchClient {
  private id = 0;
  private readonly headers: Record<string, string>;

  constructor(
    private readonly url: string,
    token: string,
    private readonly record: CallRecorder,
  ) {
    this.headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  }

  async call(method: string, params: unknown[]): Promise<unknown> {
    const body = JSON.stringify({ jsonrpc: "2.0", id: ++this.id, method, params });
    const t0 = performance.now();
    // What the recorder gets: the result, or the failure's message.
    let outcome: unknown;
    let ok = false;
    try {
      const res = await fetch(this.url, { method: "POST", headers: this.headers, body, keepalive: true });
      const answer = (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
      if (answer.error) throw new RpcFailure(`${method}: ${answer.error.code} ${answer.error.message.slice(0, 120)}`);
      ok = true;
      outcome = answer.result;
      return answer.result;
    } catch (err) {
      const failure =
        err instanceof RpcFailure ? err : new RpcFailure(`${method}: ${(err as Error).message.slice(0, 120)}`);
      outcome = failure.message;
      throw failure;
    } finally {
      const t1 = performance.now();
      this.record(method, t1 - t0, t1, ok, outcome);
    }
  }
}

/** Where the thread is between calls: what its next step does. */
export type ThreadState = "idle" | "pcWait" | "seedWait" | "proofWait";

export interface Pacing {
  /** Wait after a finished sector before allocating the next (seal_interval); also after an empty allocation. */
  sealMs: number;
  /** Wait between two chain polls that found nothing new (rpc_polling_interval). */
  pollMs: number;
  /** Wait after a failed step before retrying it (recover_interval). */
  recoverMs: number;
  /**
   * Keep the cycle's schedule: the poll sent at once after a submit waits a whole polling interval even
   * when it already finds the message landed. Against a chain it never has (a message does not land in
   * milliseconds); against canned answers it keeps the bare endpoint's call rate the manager's.
   */
  keepSchedule: boolean;
}

interface Sector {
  ID: { Miner: number; Number: number };
  ProofType: number;
}
const landedOrFailed = (r: unknown) => {
  const s = (r as { State?: number }).State;
  return s !== OnChainState.Pending && s !== OnChainState.Packed;
};
const CC = [...zeroCommD(2048)];

export class SealerThread {
  state: ThreadState = "idle";
  finalized = 0;
  private sector: Sector | undefined;
  private ticket: unknown;
  /** The next poll is the one sent at once after a submit. */
  private freshSubmit = false;
  private readonly worker: { Instance: string; Location: string };

  constructor(
    private readonly client: BenchClient,
    index: number,
    /** The persist store's directory, where a real worker would move the sealed file; null = none. */
    private readonly persistDir: string | null,
    private readonly onError: (message: string) => void,
  ) {
    this.worker = { Instance: `bench-${Math.floor(index / 32)}`, Location: `/bench/store${index}` };
  }

  /** Runs the next step; returns how long to wait before the one after it (0: go on at once). */
  async step(pacing: Pacing): Promise<number> {
    try {
      switch (this.state) {
        case "idle":
          return await this.startSector(pacing);
        case "pcWait":
          return await this.afterPreCommit(pacing);
        case "seedWait":
          return await this.afterSeed(pacing);
        case "proofWait":
          return await this.afterProof(pacing);
      }
    } catch (err) {
      this.onError((err as Error).message.slice(0, 160));
      return pacing.recoverMs;
    }
  }

  private report(prev: string, next: string, event: string): Promise<unknown> {
    const StateChange = { Prev: prev, Next: next, Event: event };
    return this.client.call(Venus.ReportState.name, [
      this.sector!.ID,
      { Worker: this.worker, StateChange, Failure: null },
    ]);
  }

  private async startSector(pacing: Pacing): Promise<number> {
    const sector = (await this.client.call(Venus.AllocateSector.name, [
      { AllowedMiners: null, AllowedProofTypes: null },
    ])) as Sector | null;
    if (!sector) return pacing.sealMs;
    this.sector = sector;
    const sid = sector.ID;
    await this.report("Empty", "Allocated", "Allocate");
    await this.client.call(Venus.AcquireDeals.name, [sid, { MaxDeals: null, MinUsedSpace: null }]);
    await this.report("Allocated", "DealsAcquired", "AcquireDeals");
    await this.report("DealsAcquired", "PieceAdded", "AddPiece");
    await this.report("PieceAdded", "TreeDBuilt", "BuildTreeD");
    this.ticket = await this.client.call(Venus.AssignTicket.name, [sid]);
    await this.report("TreeDBuilt", "TicketAssigned", "AssignTicket");
    await this.report("TicketAssigned", "PC1Done", "PC1");
    await this.report("PC1Done", "PC2Done", "PC2");
    const commR = Array.from({ length: 32 }, (_, i) => (sid.Number * 31 + i) % 256);
    const pre = (await this.client.call(Venus.SubmitPreCommit.name, [
      sector,
      { CommR: commR, CommD: CC, Ticket: this.ticket, Deals: null },
      false,
    ])) as { Res: number; Desc?: string };
    if (pre.Res !== SubmitResult.Accepted) throw new Error(`SubmitPreCommit: ${pre.Res} ${pre.Desc}`);
    await this.report("PC2Done", "PCSubmitted", "SubmitPC");
    this.state = "pcWait";
    this.freshSubmit = true;
    return 0; // the worker polls once at once, then every pollMs
  }

  /** Brought to its cycle point by a warm-up: the poll due at once after its submit counts as sent. */
  settle(): void {
    this.freshSubmit = false;
  }

  private firstPollKeepsSchedule(pacing: Pacing): boolean {
    const fresh = this.freshSubmit;
    this.freshSubmit = false;
    return fresh && pacing.keepSchedule;
  }

  private async afterPreCommit(pacing: Pacing): Promise<number> {
    const sid = this.sector!.ID;
    const pc = (await this.client.call(Venus.PollPreCommitState.name, [sid])) as { State: number; Desc?: string };
    if (this.firstPollKeepsSchedule(pacing) || !landedOrFailed(pc)) return pacing.pollMs;
    if (pc.State !== OnChainState.Landed) {
      this.state = "idle";
      throw new Error(`PreCommit ${pc.State}: ${pc.Desc}`);
    }
    await this.report("PCSubmitted", "PCLanded", "CheckPC");
    const store = (await this.client.call(Venus.StoreReserveSpace.name, [sid, 4096, ["persist-1"]])) as {
      Name: string;
    } | null;
    if (!store) return pacing.pollMs;
    if (this.persistDir) {
      const name = `s-t0${sid.Miner}-${sid.Number}`;
      writeFileSync(join(this.persistDir, "sealed", name), "");
      mkdirSync(join(this.persistDir, "cache", name), { recursive: true });
    }
    await this.report("PCLanded", "Persisted", "Persist");
    await this.client.call(Venus.SubmitPersistedEx.name, [sid, store.Name, false]);
    await this.report("Persisted", "PersistanceSubmitted", "SubmitPersistance");
    this.state = "seedWait";
    return 0;
  }

  private async afterSeed(pacing: Pacing): Promise<number> {
    const sid = this.sector!.ID;
    const seed = (await this.client.call(Venus.WaitSeed.name, [sid, this.sector!.ProofType])) as {
      ShouldWait: boolean;
      Delay: number;
      Seed?: { Epoch: number } | null;
    };
    // The worker sleeps the Delay the manager names (seconds), never longer than its polling interval.
    if (seed.ShouldWait) return Math.min(Math.max(seed.Delay, 1) * 1000, pacing.pollMs);
    await this.report("PersistanceSubmitted", "SeedAssigned", "AssignSeed");
    await this.report("SeedAssigned", "C1Done", "C1");
    await this.report("C1Done", "C2Done", "C2");
    const proof = Buffer.from(`simulated-proof-${seed.Seed?.Epoch}`).toString("base64");
    const sp = (await this.client.call(Venus.SubmitProof.name, [sid, { Proof: proof }, false])) as {
      Res: number;
      Desc?: string;
    };
    if (sp.Res !== SubmitResult.Accepted) throw new Error(`SubmitProof: ${sp.Res} ${sp.Desc}`);
    await this.report("C2Done", "ProofSubmitted", "SubmitProof");
    this.state = "proofWait";
    this.freshSubmit = true;
    return 0;
  }

  private async afterProof(pacing: Pacing): Promise<number> {
    const sid = this.sector!.ID;
    const pp = (await this.client.call(Venus.PollProofState.name, [sid])) as { State: number; Desc?: string };
    if (this.firstPollKeepsSchedule(pacing) || !landedOrFailed(pp)) return pacing.pollMs;
    this.state = "idle";
    if (pp.State !== OnChainState.Landed) throw new Error(`ProveCommit ${pp.State}: ${pp.Desc}`);
    await this.report("ProofSubmitted", "Finished", "Finish");
    await this.client.call(Venus.ReportFinalized.name, [sid]);
    this.finalized++;
    return pacing.sealMs;
  }
}

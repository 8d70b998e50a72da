import { mkdirSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { abort, permanent, temporary } from "../../core/errors/index.ts";
import { C2OutputSchema } from "../../core/processor/stages/seal.ts";
import { Venus } from "../../core/sector/api.ts";
import { proverId } from "../../core/sector/id.ts";
import { sealProofFor, sealProofInfo } from "../../core/sector/proof.ts";
import { OnChainState, SubmitResult } from "../../core/sector/states.ts";
import { sleep } from "../../core/sync/semaphore.ts";
import { sectorId } from "../manager-client.ts";
import type { PlanImpl, StepContext, StepOutcome } from "../thread.ts";
import { type SealerEvent, type SealerState, sealerPlan } from "./sealer.ts";
import { acquireDeals, addPieces } from "./sealer-deals.ts";
import { need, phases, removeLocalFiles, type SealerDeps, sectorPaths } from "./sealer-job.ts";
import { persistFiles } from "./sealer-persist.ts";
import { buildTreeD, pc2Recorded, runC1, runPC1, runPC2 } from "./sealer-replica.ts";

export type { SealerDeps } from "./sealer-job.ts";

/**
 * The work behind each state of the sealer plan. Stage tasks use the vc-processors wire shapes, so an
 * external processor written for damocles-worker can take any of them. Data in (deals, add_pieces) is in
 * sealer-deals.ts, tree_d/PC1/PC2/C1 in sealer-replica.ts, persisting in sealer-persist.ts (the rebuild plan
 * shares all three).
 */

/** The original waits this long after a Failed message before re-submitting. */
const RESUBMIT_WAIT_MS = 30_000;

export function sealerSteps(deps: SealerDeps): PlanImpl<SealerState, SealerEvent> {
  const stage = (name: string, task: unknown, ctx: StepContext) =>
    deps.stages.run(name, task, { signal: ctx.signal, setActivity: ctx.setActivity, log: ctx.log });

  const steps: Record<
    Exclude<SealerState, "Finished" | "Aborted">,
    (ctx: StepContext) => Promise<StepOutcome<SealerEvent>>
  > = {
    async Empty(ctx) {
      const s = ctx.settings;
      const sector = await deps.manager.call(Venus.AllocateSector, {
        AllowedMiners: s.allowed_miners ?? null,
        AllowedProofTypes: s.allowed_sizes?.map((size) => sealProofFor(size)) ?? null,
      });
      if (!sector) return { idle: true };
      const job = {
        ...ctx.job,
        sector: { miner: sector.ID.Miner, number: sector.ID.Number, proof_type: sector.ProofType },
      };
      const p = sectorPaths(deps.location, job);
      for (const dir of [join(p.staged, ".."), join(p.sealed, ".."), p.cache]) mkdirSync(dir, { recursive: true });
      ctx.log.info(`allocated ${p.name} (${sealProofInfo(sector.ProofType).name})`);
      return { event: "Allocate", sector: job.sector };
    },

    Allocated: (ctx) => acquireDeals(deps, ctx),

    DealsAcquired: (ctx) => addPieces(deps, ctx, stage),

    async PieceAdded(ctx) {
      await buildTreeD(deps, ctx, stage);
      return { event: "BuildTreeD" };
    },

    async TreeDBuilt() {
      return { event: "AssignTicket" };
    },

    async TicketAssigned(ctx) {
      const ticket = phases(ctx.job).ticket ?? (await deps.manager.call(Venus.AssignTicket, sectorId(ctx.job)));
      const pc1out = await runPC1(deps, ctx, stage, ticket);
      return { event: "PC1", patch: { ticket: { Ticket: ticket.Ticket, Epoch: ticket.Epoch }, pc1out } };
    },

    async PC1Done(ctx) {
      return { event: "PC2", patch: { pc2out: await runPC2(deps, ctx, stage) } };
    },

    async SyntheticPoRepNeeded() {
      throw permanent(
        new Error(
          "synthetic PoRep is not enabled in this build; resume with --state PC1Done after switching UseSyntheticPoRep off",
        ),
      );
    },

    async PC2Done(ctx) {
      pc2Recorded(deps, ctx);
      const ph = phases(ctx.job);
      const pc2 = need(ph.pc2out, "PC2 output");
      const ticket = need(ph.ticket, "ticket");
      const reset = ph.pc_resubmit === true;
      const resp = await deps.manager.call(
        Venus.SubmitPreCommit,
        { ID: sectorId(ctx.job), ProofType: ctx.job.sector!.proof_type },
        { CommR: pc2.comm_r, CommD: pc2.comm_d, Ticket: ticket, Deals: null },
        reset,
      );
      return { ...submitted(resp, "PreCommit", "SubmitPC"), patch: { pc_resubmit: false } };
    },

    async PCSubmitted(ctx) {
      const st = await deps.manager.call(Venus.PollPreCommitState, sectorId(ctx.job));
      const out = await polled(st, "PreCommit", "CheckPC", "ReSubmitPC", ctx);
      return "event" in out && out.event === "ReSubmitPC" ? { ...out, patch: { pc_resubmit: true } } : out;
    },

    PCLanded: (ctx) => persistFiles(deps, ctx, stage),

    async Persisted(ctx) {
      const instance = need(phases(ctx.job).persist_instance, "persist store");
      const ok = await deps.manager.call(Venus.SubmitPersistedEx, sectorId(ctx.job), instance, false);
      if (!ok) throw permanent(new Error(`the manager could not find the persisted files in store "${instance}"`));
      return { event: "SubmitPersistance" };
    },

    async PersistanceSubmitted(ctx) {
      const w = await deps.manager.call(Venus.WaitSeed, sectorId(ctx.job), ctx.job.sector!.proof_type);
      if (w.ShouldWait || !w.Seed) {
        ctx.setActivity({ kind: "waiting", on: "seed" });
        await sleep(Math.min(Math.max(w.Delay, 1) * 1000, ctx.settings.rpc_polling_interval), ctx.signal);
        return { idle: true };
      }
      return { event: "AssignSeed", patch: { seed: w.Seed } };
    },

    async SeedAssigned(ctx) {
      const c1out = await runC1(deps, ctx, stage, need(phases(ctx.job).seed, "seed"));
      return { event: "C1", patch: { c1out } };
    },

    async C1Done(ctx) {
      const ph = phases(ctx.job);
      const out = await stage(
        "c2",
        {
          c1out: need(ph.c1out, "C1 output"),
          prover_id: [...proverId(ctx.job.sector!.miner)],
          sector_id: ctx.job.sector!.number,
          miner_id: ctx.job.sector!.miner,
        },
        ctx,
      );
      const c2 = v.safeParse(C2OutputSchema, out);
      if (!c2.success) throw permanent(new Error(`c2 returned no proof: ${c2.issues[0].message}`));
      // C1's output is large and no longer needed once the proof exists.
      return { event: "C2", patch: { c2out: c2.output, c1out: undefined } };
    },

    async C2Done(ctx) {
      const ph = phases(ctx.job);
      const proof = need(ph.c2out, "C2 proof");
      const resp = await deps.manager.call(
        Venus.SubmitProof,
        sectorId(ctx.job),
        { Proof: Buffer.from(proof.proof).toString("base64") },
        ph.proof_resubmit === true,
      );
      return { ...submitted(resp, "ProveCommit", "SubmitProof"), patch: { proof_resubmit: false } };
    },

    async ProofSubmitted(ctx) {
      if (ctx.settings.ignore_proof_check) return { event: "Finish" };
      const st = await deps.manager.call(Venus.PollProofState, sectorId(ctx.job));
      const out = await polled(st, "ProveCommit", "Finish", "ReSubmitProof", ctx);
      return "event" in out && out.event === "ReSubmitProof" ? { ...out, patch: { proof_resubmit: true } } : out;
    },
  };

  return {
    table: sealerPlan,
    exec(state, ctx) {
      const step = steps[state as keyof typeof steps];
      if (!step) throw permanent(new Error(`no work defined for state ${state}`));
      return step(ctx);
    },
    async finish(job, ctx) {
      if (job.sector) await deps.manager.call(Venus.ReportFinalized, sectorId(job));
      removeLocalFiles(deps.location, job);
      ctx.log.info(`${sectorPaths(deps.location, job).name} finished`);
    },
    async cleanup(job) {
      removeLocalFiles(deps.location, job);
    },
  };
}

function submitted(
  resp: { Res: number; Desc: string | null },
  what: string,
  event: SealerEvent,
): StepOutcome<SealerEvent> {
  const desc = resp.Desc ? `: ${resp.Desc}` : "";
  switch (resp.Res) {
    case SubmitResult.Accepted:
    case SubmitResult.DuplicateSubmit:
      return { event };
    case SubmitResult.MismatchedSubmission:
      throw permanent(new Error(`${what} submission does not match what the manager has${desc}`));
    case SubmitResult.Rejected:
      throw abort(new Error(`${what} rejected${desc}`));
    case SubmitResult.FilesMissed:
      throw permanent(new Error(`${what}: the manager cannot find the sector files${desc}`));
    default:
      throw temporary(new Error(`${what}: unexpected submit result ${resp.Res}${desc}`));
  }
}

async function polled(
  st: { State: number; Desc: string | null },
  what: string,
  landed: SealerEvent,
  resubmit: SealerEvent,
  ctx: StepContext,
): Promise<StepOutcome<SealerEvent>> {
  const desc = st.Desc ? `: ${st.Desc}` : "";
  switch (st.State) {
    case OnChainState.Landed:
      return { event: landed };
    case OnChainState.Pending:
    case OnChainState.Packed:
      ctx.setActivity({ kind: "waiting", on: `${what} to land` });
      await sleep(ctx.settings.rpc_polling_interval, ctx.signal);
      return { idle: true };
    case OnChainState.Failed:
      ctx.log.warn(`${what} message failed${desc}; submitting again in ${RESUBMIT_WAIT_MS / 1000}s`);
      await sleep(Math.min(RESUBMIT_WAIT_MS, ctx.settings.rpc_polling_interval), ctx.signal);
      return { event: resubmit };
    case OnChainState.ShouldAbort:
      throw abort(new Error(`${what}: the chain says this sector must be aborted${desc}`));
    case OnChainState.NotFound:
    case OnChainState.PermFailed:
      throw permanent(
        new Error(`${what} ${st.State === OnChainState.NotFound ? "not found" : "failed permanently"}${desc}`),
      );
    default:
      throw temporary(new Error(`${what}: unknown on-chain state ${st.State}${desc}`));
  }
}

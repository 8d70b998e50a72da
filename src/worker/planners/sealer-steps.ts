import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { abort, permanent, temporary } from "../../core/errors/index.ts";
import { C2OutputSchema, PC2OutputSchema } from "../../core/processor/stages/seal.ts";
import { Venus } from "../../core/sector/api.ts";
import { proverId } from "../../core/sector/id.ts";
import { sealProofFor, sealProofInfo } from "../../core/sector/proof.ts";
import { OnChainState, SubmitResult } from "../../core/sector/states.ts";
import { sleep } from "../../core/sync/semaphore.ts";
import { sectorId } from "../manager-client.ts";
import type { JobRecord } from "../state/store.ts";
import type { PlanImpl, StepContext, StepOutcome } from "../thread.ts";
import { type SealerEvent, type SealerState, sealerPlan } from "./sealer.ts";
import { acquireDeals, addPieces } from "./sealer-deals.ts";
import { need, phases, type SealerDeps, sectorPaths } from "./sealer-job.ts";
import { persistFiles } from "./sealer-persist.ts";

export type { SealerDeps } from "./sealer-job.ts";

/**
 * The work behind each state of the sealer plan. Stage tasks use the vc-processors wire shapes, so an
 * external processor written for damocles-worker can take any of them. Data in (deals, add_pieces) is in
 * sealer-deals.ts, persisting in sealer-persist.ts.
 */

/** Present while a PC2 may have touched the sealed file, i.e. from its start until the state has moved on. */
const PC2_MARKER = ".pc2_running";
/** What PC2 writes into the cache. */
const PC2_OUTPUT = /^(sc-02-data-tree-c.*\.dat|sc-02-data-tree-r-last.*\.dat|p_aux|t_aux)$/;
/** The original waits this long after a Failed message before re-submitting. */
const RESUBMIT_WAIT_MS = 30_000;

const bytes = (b64: string) => [...Buffer.from(b64, "base64")];

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
      const p = sectorPaths(deps.location, ctx.job);
      const proof = sealProofInfo(ctx.job.sector!.proof_type);
      const tree = join(p.cache, "sc-02-data-tree-d.dat");
      rmSync(tree, { force: true });
      const staticTree = deps.staticTreeD[proof.sizeName];
      if (staticTree && ctx.job.phases.deals == null) {
        if (!existsSync(staticTree))
          throw permanent(new Error(`processors.static_tree_d.${proof.sizeName} = ${staticTree} does not exist`));
        symlinkSync(staticTree, tree);
      } else {
        await stage("tree_d", { registered_proof: proof.name, staged_file: p.staged, cache_dir: p.cache }, ctx);
      }
      return { event: "BuildTreeD" };
    },

    async TreeDBuilt() {
      return { event: "AssignTicket" };
    },

    async TicketAssigned(ctx) {
      const ph = phases(ctx.job);
      const p = sectorPaths(deps.location, ctx.job);
      const proof = sealProofInfo(ctx.job.sector!.proof_type);
      const ticket = ph.ticket ?? (await deps.manager.call(Venus.AssignTicket, sectorId(ctx.job)));
      // A previous attempt may have left layers behind: keep only tree_d, which PC1 reads.
      for (const f of readdirSync(p.cache))
        if (f !== "sc-02-data-tree-d.dat") rmSync(join(p.cache, f), { recursive: true, force: true });
      writeFileSync(p.sealed, ""); // PC1 wants its output file to exist
      const pc1out = await stage(
        "pc1",
        {
          registered_proof: proof.name,
          cache_path: p.cache,
          in_path: p.staged,
          out_path: p.sealed,
          prover_id: [...proverId(ctx.job.sector!.miner)],
          sector_id: ctx.job.sector!.number,
          ticket: bytes(ticket.Ticket),
          piece_infos: need(ph.pieces, "pieces"),
        },
        ctx,
      );
      return { event: "PC1", patch: { ticket: { Ticket: ticket.Ticket, Epoch: ticket.Epoch }, pc1out } };
    },

    async PC1Done(ctx) {
      const ph = phases(ctx.job);
      const p = sectorPaths(deps.location, ctx.job);
      const marker = join(p.cache, PC2_MARKER);
      if (existsSync(marker)) {
        // PC2 encodes the sealed file in place: an interrupted (or finished but unrecorded) run leaves it
        // encoded, and sealing it again gives "Invalid vanilla proof" at C1. Start from the staged data.
        ctx.log.warn(`${p.name}: PC2 was interrupted; restoring the sealed file from the staged copy`);
        copyFileSync(p.staged, p.sealed);
      }
      // A killed PC2 also leaves partial tree-c / tree-r-last / p_aux / t_aux that a new run would trust.
      for (const f of readdirSync(p.cache)) if (PC2_OUTPUT.test(f)) rmSync(join(p.cache, f), { force: true });
      // The marker stays until the thread has left PC1Done (see PC2Done): only then is the run recorded.
      writeFileSync(marker, String(Date.now()));
      const out = await stage(
        "pc2",
        { pc1out: need(ph.pc1out, "PC1 output"), cache_dir: p.cache, sealed_file: p.sealed },
        ctx,
      );
      const pc2 = v.safeParse(PC2OutputSchema, out);
      if (!pc2.success) throw permanent(new Error(`pc2 returned no commitments: ${pc2.issues[0].message}`));
      return { event: "PC2", patch: { pc2out: pc2.output } };
    },

    async SyntheticPoRepNeeded() {
      throw permanent(
        new Error(
          "synthetic PoRep is not enabled in this build; resume with --state PC1Done after switching UseSyntheticPoRep off",
        ),
      );
    },

    async PC2Done(ctx) {
      rmSync(join(sectorPaths(deps.location, ctx.job).cache, PC2_MARKER), { force: true });
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
      const ph = phases(ctx.job);
      const p = sectorPaths(deps.location, ctx.job);
      const c1out = await stage(
        "c1",
        {
          cache_path: p.cache,
          replica_path: p.sealed,
          prover_id: [...proverId(ctx.job.sector!.miner)],
          sector_id: ctx.job.sector!.number,
          ticket: bytes(need(ph.ticket, "ticket").Ticket),
          seed: bytes(need(ph.seed, "seed").Seed),
          pc2out: need(ph.pc2out, "PC2 output"),
          piece_infos: need(ph.pieces, "pieces"),
        },
        ctx,
      );
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

function removeLocalFiles(location: string, job: JobRecord): void {
  if (!job.sector) return;
  const p = sectorPaths(location, job);
  for (const path of [p.staged, p.sealed, p.cache]) rmSync(path, { recursive: true, force: true });
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

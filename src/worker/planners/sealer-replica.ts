import { copyFileSync, existsSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { permanent } from "../../core/errors/index.ts";
import { type PC2Output, PC2OutputSchema } from "../../core/processor/stages/seal.ts";
import { proverId } from "../../core/sector/id.ts";
import { sealProofInfo } from "../../core/sector/proof.ts";
import type { Ticket } from "../../core/sector/wire.ts";
import type { StepContext } from "../thread.ts";
import { need, phases, type SealerDeps, sectorPaths } from "./sealer-job.ts";

/**
 * The replica itself: tree_d, PC1, PC2 and C1 as the sealer plan runs them, shared with the rebuild plan
 * (which seals a sector again with its recorded ticket). Each function does the work of one state and
 * answers what the step records; the plans name the events.
 */

type RunStage = (name: string, task: unknown, ctx: StepContext) => Promise<unknown>;

/** Present while a PC2 may have touched the sealed file, i.e. from its start until the state has moved on. */
const PC2_MARKER = ".pc2_running";
/** What PC2 writes into the cache. */
const PC2_OUTPUT = /^(sc-02-data-tree-c.*\.dat|sc-02-data-tree-r-last.*\.dat|p_aux|t_aux)$/;

const bytes = (b64: string) => [...Buffer.from(b64, "base64")];

/** PieceAdded: tree_d over the staged file, or a link to `static_tree_d` for a CC sector. */
export async function buildTreeD(deps: SealerDeps, ctx: StepContext, stage: RunStage): Promise<void> {
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
}

/** PC1 with `ticket` from a fresh cache (only tree_d kept); answers PC1's output. */
export async function runPC1(deps: SealerDeps, ctx: StepContext, stage: RunStage, ticket: Ticket): Promise<unknown> {
  const ph = phases(ctx.job);
  const p = sectorPaths(deps.location, ctx.job);
  const proof = sealProofInfo(ctx.job.sector!.proof_type);
  // A previous attempt may have left layers behind: keep only tree_d, which PC1 reads.
  for (const f of readdirSync(p.cache))
    if (f !== "sc-02-data-tree-d.dat") rmSync(join(p.cache, f), { recursive: true, force: true });
  writeFileSync(p.sealed, ""); // PC1 wants its output file to exist
  return stage(
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
}

/**
 * PC2, safe to run again after a kill: PC2 encodes the sealed file in place, so a run that was interrupted
 * (or finished but was never recorded) leaves it encoded, and sealing it again gives another replica.
 * The `.pc2_running` marker says so; the sealed file is then restored from the staged copy, and partial
 * tree-c / tree-r-last / p_aux / t_aux files are removed before the new run.
 */
export async function runPC2(deps: SealerDeps, ctx: StepContext, stage: RunStage): Promise<PC2Output> {
  const ph = phases(ctx.job);
  const p = sectorPaths(deps.location, ctx.job);
  const marker = join(p.cache, PC2_MARKER);
  if (existsSync(marker)) {
    ctx.log.warn(`${p.name}: PC2 was interrupted; restoring the sealed file from the staged copy`);
    copyFileSync(p.staged, p.sealed);
  }
  for (const f of readdirSync(p.cache)) if (PC2_OUTPUT.test(f)) rmSync(join(p.cache, f), { force: true });
  // The marker stays until the thread has left PC1Done (see pc2Recorded): only then is the run recorded.
  writeFileSync(marker, String(Date.now()));
  const out = await stage(
    "pc2",
    { pc1out: need(ph.pc1out, "PC1 output"), cache_dir: p.cache, sealed_file: p.sealed },
    ctx,
  );
  const pc2 = v.safeParse(PC2OutputSchema, out);
  if (!pc2.success) throw permanent(new Error(`pc2 returned no commitments: ${pc2.issues[0].message}`));
  return pc2.output;
}

/** The state after PC1Done is saved: PC2's result is recorded, so a restart must not restore the staged copy. */
export function pc2Recorded(deps: SealerDeps, ctx: StepContext): void {
  rmSync(join(sectorPaths(deps.location, ctx.job).cache, PC2_MARKER), { force: true });
}

/** C1 over the sealed replica for `seed` (the sealer's interactive seed; a rebuild's sanity check uses the ticket). */
export async function runC1(
  deps: SealerDeps,
  ctx: StepContext,
  stage: RunStage,
  seed: { Seed: string },
): Promise<unknown> {
  const ph = phases(ctx.job);
  const p = sectorPaths(deps.location, ctx.job);
  return stage(
    "c1",
    {
      cache_path: p.cache,
      replica_path: p.sealed,
      prover_id: [...proverId(ctx.job.sector!.miner)],
      sector_id: ctx.job.sector!.number,
      ticket: bytes(need(ph.ticket, "ticket").Ticket),
      seed: bytes(seed.Seed),
      pc2out: need(ph.pc2out, "PC2 output"),
      piece_infos: need(ph.pieces, "pieces"),
    },
    ctx,
  );
}

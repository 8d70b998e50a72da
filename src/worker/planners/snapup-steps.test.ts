import { afterAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SEALING_DEFAULTS } from "../../core/config/index.ts";
import { Failure, temporary } from "../../core/errors/index.ts";
import { logger } from "../../core/log/index.ts";
import type { TransferInput } from "../../core/processor/stages/seal.ts";
import { computeCommD, toWirePieceInfo } from "../../core/proofs/index.ts";
import { RpcTransportError } from "../../core/rpc/errors.ts";
import type { MethodDef } from "../../core/rpc/method.ts";
import type { AllocatedSnapUpSector, SnapUpOnChainInfo } from "../../core/sector/api-snap.ts";
import { zeroCommD } from "../../core/sector/commd.ts";
import { SubmitResult } from "../../core/sector/states.ts";
import { builtinPlugins } from "../../plugins/index.ts";
import { type ManagerClient, ManagerUnreachable } from "../manager-client.ts";
import type { StageRunner } from "../stages.ts";
import type { JobRecord } from "../state/store.ts";
import type { StepContext, StepOutcome } from "../thread.ts";
import { snapPaths } from "./snapup-job.ts";
import { snapupSteps } from "./snapup-steps.ts";

const tmp = mkdtempSync(join(tmpdir(), "damocles-snapup-steps-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SECTOR = { miner: 1000, number: 4, proof_type: 5 };
const CC_COMM_R = Array.from({ length: 32 }, (_, i) => i + 1);
const DEAL = {
  ID: 11,
  PayloadSize: 500,
  Piece: { Size: 512, Offset: 0, Cid: { "/": "baga6ea4seaqjkq537gtbq6aa5qy7dih6x3kyvyxoyv6zsskdw5xcrao75khnwfy" } },
  Proposal: null,
  IsCompatible: false,
};

type Handler = (...args: unknown[]) => unknown;

/** The manager as the steps see it: Venus methods answered by `handlers`, every call recorded. */
function fakeManager(handlers: Record<string, Handler>) {
  const calls: { method: string; args: unknown[] }[] = [];
  const manager = {
    async call(def: MethodDef, ...args: unknown[]) {
      calls.push({ method: def.name, args });
      const h = handlers[def.name];
      if (!h) throw new Error(`unexpected call ${def.name}`);
      return h(...args);
    },
  } as unknown as ManagerClient;
  return { manager, calls };
}

const transfer = builtinPlugins.find((p) => p.stage === "transfer")!;

/** Stages: transfer is the real built-in; the others answer from `answers` (a function of the task). */
function fakeStages(answers: Record<string, (task: never) => unknown>) {
  const tasks: { stage: string; task: unknown }[] = [];
  const stages = {
    async run(stage: string, task: unknown) {
      tasks.push({ stage, task });
      if (stage === "transfer")
        return transfer.run(task as never, { log: logger, signal: new AbortController().signal });
      const answer = answers[stage];
      if (!answer) throw new Error(`unexpected stage ${stage}`);
      return answer(task as never);
    },
  } as unknown as StageRunner;
  return { stages, tasks };
}

function setup(
  name: string,
  handlers: Record<string, Handler>,
  answers: Record<string, (task: never) => unknown> = {},
) {
  const root = join(tmp, name);
  const location = join(root, "sealing");
  const access = { name: "cc-store", location: join(root, "cc-store"), readonly: true };
  const persist = { name: "persist-1", location: join(root, "persist-1"), readonly: false };
  for (const d of [location, access.location, persist.location]) mkdirSync(d, { recursive: true });
  const m = fakeManager(handlers);
  const s = fakeStages(answers);
  const steps = snapupSteps({
    manager: m.manager,
    stages: s.stages,
    location,
    attached: [access, persist],
    pieces: { localDirs: [], storeUrl: "http://127.0.0.1:1/piecestore" },
  });
  return { root, location, access, persist, steps, ...m, ...s };
}

function ctxFor(job: JobRecord, settings: Partial<typeof SEALING_DEFAULTS> = {}): StepContext {
  return {
    job,
    settings: { ...SEALING_DEFAULTS, rpc_polling_interval: 5, ...settings },
    log: logger.withTag("test"),
    signal: new AbortController().signal,
    setActivity: () => {},
  };
}

function job(state: string, phases: Record<string, unknown> = {}): JobRecord {
  return { version: 1, plan: "snapup", state, retry: 0, sector: SECTOR, phases };
}

async function failureOf(p: Promise<unknown>): Promise<Failure> {
  try {
    await p;
  } catch (err) {
    if (err instanceof Failure) return err;
    throw err;
  }
  throw new Error("expected a failure");
}

const allocated: AllocatedSnapUpSector = {
  Sector: { ID: { Miner: 1000, Number: 4 }, ProofType: 5 },
  Pieces: [DEAL],
  Public: { CommR: CC_COMM_R, SealedCID: { "/": "bagboea4b5abc" }, Activation: 10, Expiration: 9000 },
  Private: { AccessInstance: "cc-store" },
};

describe("Empty: AllocateSanpUpSector", () => {
  test("the spec carries the thread's miners, every proof variant of its sizes and its deal limits", async () => {
    const t = setup("alloc-ok", { "Venus.AllocateSanpUpSector": () => allocated });
    const out = await t.steps.exec(
      "Empty",
      ctxFor(
        { version: 1, plan: "snapup", state: "Empty", retry: 0, phases: {} },
        {
          allowed_miners: [1000],
          allowed_sizes: [2048],
          max_deals: 2,
          min_deal_space: 1024,
        },
      ),
    );
    expect(t.calls[0]).toEqual({
      method: "Venus.AllocateSanpUpSector",
      args: [
        {
          Sector: { AllowedMiners: [1000], AllowedProofTypes: [0, 5, 10, 15] },
          Deals: { MaxDeals: 2, MinUsedSpace: 1024 },
        },
      ],
    });
    expect(out).toEqual({
      event: "AllocatedSnapUpSector",
      sector: SECTOR,
      patch: { deals: [DEAL], cc_public: allocated.Public, access_instance: "cc-store" },
    });
  });

  test("nothing to snap, or an error answer, is an idle round; an unreachable manager is waited out", async () => {
    const empty = { version: 1 as const, plan: "snapup", state: "Empty", retry: 0, phases: {} };
    const none = setup("alloc-none", { "Venus.AllocateSanpUpSector": () => null });
    expect(await none.steps.exec("Empty", ctxFor(empty))).toEqual({ idle: true });
    const err = setup("alloc-err", {
      "Venus.AllocateSanpUpSector": () => {
        throw temporary(new Error("snapup disabled"));
      },
    });
    expect(await err.steps.exec("Empty", ctxFor(empty))).toEqual({ idle: true });
    const down = setup("alloc-down", {
      "Venus.AllocateSanpUpSector": () => {
        throw new ManagerUnreachable(new RpcTransportError("connection refused"));
      },
    });
    expect(await failureOf(down.steps.exec("Empty", ctxFor(empty)))).toBeInstanceOf(ManagerUnreachable);
  });

  test("a candidate without deals or without its store is aborted at once and reported to the manager", async () => {
    const empty = { version: 1 as const, plan: "snapup", state: "Empty", retry: 0, phases: {} };
    const t = setup("alloc-bad", {
      "Venus.AllocateSanpUpSector": () => ({ ...allocated, Pieces: null }),
      "Venus.ReportAborted": () => null,
    });
    const f = await failureOf(t.steps.exec("Empty", ctxFor(empty)));
    expect(f.level).toBe("abort");
    expect(f.message).toContain("deals required");
    expect(t.calls[1]).toEqual({
      method: "Venus.ReportAborted",
      args: [{ Miner: 1000, Number: 4 }, "deals required, got none"],
    });
    const noStore = setup("alloc-nostore", {
      "Venus.AllocateSanpUpSector": () => ({ ...allocated, Private: { AccessInstance: "" } }),
      "Venus.ReportAborted": () => null,
    });
    expect((await failureOf(noStore.steps.exec("Empty", ctxFor(empty)))).message).toContain("AccessInstance");
  });
});

/** A CC replica in the access store: sealed file + the cache files a 2KiB sector persists. */
function ccReplica(store: { location: string }) {
  const name = "s-t01000-4";
  mkdirSync(join(store.location, "sealed"), { recursive: true });
  mkdirSync(join(store.location, "cache", name), { recursive: true });
  writeFileSync(join(store.location, "sealed", name), "CC SEALED");
  for (const f of ["sc-02-data-tree-r-last.dat", "p_aux", "t_aux"])
    writeFileSync(join(store.location, "cache", name, f), `CC ${f}`);
}

describe("TreeDBuilt: bring the sector key, snap_encode", () => {
  const pieces = [toWirePieceInfo({ commitment: zeroCommD(2048), size: 2032 })];

  test("links the CC replica from its store, starts a fresh update file, sends the original's task", async () => {
    const t = setup(
      "encode",
      {
        "Venus.StoreBasicInfo": () => ({
          Name: "cc-store",
          Path: "",
          Strict: false,
          ReadOnly: true,
          Weight: 1,
          Meta: { k: "v" },
        }),
      },
      {
        snap_encode: async () => ({
          comm_r_new: Array(32).fill(7),
          comm_r_last_new: Array(32).fill(8),
          comm_d_new: Array.from(
            await computeCommD({ registeredProof: 5, pieces: [{ commitment: zeroCommD(2048), size: 2032 }] }),
          ),
        }),
      },
    );
    ccReplica(t.access);
    const j = job("TreeDBuilt", { pieces, access_instance: "cc-store" });
    const p = snapPaths(t.location, j);
    mkdirSync(p.prepared, { recursive: true });
    writeFileSync(join(p.prepared, "sc-02-data-tree-d.dat"), "tree d");
    // What a killed earlier run left behind: a torn update file and a stray cache file.
    mkdirSync(p.updateCache, { recursive: true });
    writeFileSync(join(p.updateCache, "p_aux"), "half");
    mkdirSync(join(p.update, ".."), { recursive: true });
    writeFileSync(p.update, "torn");

    const out = (await t.steps.exec("TreeDBuilt", ctxFor(j))) as Extract<StepOutcome<string>, { event: string }>;
    expect(out.event).toBe("SnapEncode");
    const xfer = t.tasks.find((x) => x.stage === "transfer")!.task as TransferInput;
    expect(xfer.stores).toEqual({ "cc-store": { name: "cc-store", meta: { k: "v" } } });
    expect(xfer.routes[0]).toEqual({
      src: { store_name: "cc-store", uri: join(t.access.location, "sealed", p.name) },
      dest: { store_name: null, uri: p.sealed },
      opt: { is_dir: false, allow_link: true },
    });
    expect(xfer.routes.map((r) => r.dest.uri)).toEqual([
      p.sealed,
      join(p.cache, "sc-02-data-tree-r-last.dat"),
      join(p.cache, "p_aux"),
      join(p.cache, "t_aux"),
    ]);
    expect(readlinkSync(p.sealed)).toBe(join(t.access.location, "sealed", p.name));
    expect(t.tasks.find((x) => x.stage === "snap_encode")!.task).toEqual({
      registered_proof: "StackedDrg2KiBV1",
      new_replica_path: p.update,
      new_cache_path: p.updateCache,
      sector_path: p.sealed,
      sector_cache_path: p.cache,
      staged_data_path: p.staged,
      piece_infos: pieces,
    });
    // A fresh sector-sized update file, an update cache holding only the link to the prepared tree_d.
    expect(statSync(p.update).size).toBe(2048);
    expect(readFileSync(p.update).every((b) => b === 0)).toBe(true);
    expect(readlinkSync(join(p.updateCache, "sc-02-data-tree-d.dat"))).toBe(join(p.prepared, "sc-02-data-tree-d.dat"));
    expect(existsSync(join(p.updateCache, "p_aux"))).toBe(false);

    // Cleanup drops the links and local files; the CC replica in its store is untouched.
    await t.steps.cleanup(j, ctxFor(j));
    for (const f of [p.sealed, p.cache, p.update, p.updateCache, p.prepared]) expect(existsSync(f)).toBe(false);
    expect(readFileSync(join(t.access.location, "sealed", p.name), "utf8")).toBe("CC SEALED");
    expect(readFileSync(join(t.access.location, "cache", p.name, "p_aux"), "utf8")).toBe("CC p_aux");
  });

  test("an encode whose CommD is not the pieces' is refused; a store the worker lacks is named", async () => {
    const t = setup(
      "encode-bad",
      {
        "Venus.StoreBasicInfo": () => ({
          Name: "cc-store",
          Path: "",
          Strict: false,
          ReadOnly: true,
          Weight: 1,
          Meta: null,
        }),
      },
      {
        snap_encode: () => ({
          comm_r_new: Array(32).fill(7),
          comm_r_last_new: Array(32).fill(8),
          comm_d_new: Array(32).fill(9),
        }),
      },
    );
    ccReplica(t.access);
    const j = job("TreeDBuilt", { pieces, access_instance: "cc-store" });
    mkdirSync(snapPaths(t.location, j).prepared, { recursive: true });
    const f = await failureOf(t.steps.exec("TreeDBuilt", ctxFor(j)));
    expect(f.level).toBe("permanent");
    expect(f.message).toContain("resume with --state PieceAdded");
    const elsewhere = await failureOf(
      t.steps.exec("TreeDBuilt", ctxFor(job("TreeDBuilt", { pieces, access_instance: "far-away" }))),
    );
    expect(elsewhere.level).toBe("permanent");
    expect(elsewhere.message).toContain(
      'persist store "far-away", which is not among this worker\'s [[attached]] stores (it has: cc-store, persist-1)',
    );
  });
});

/** A local updated replica, as snap_encode leaves it. */
function localUpdate(location: string, j: JobRecord, aux = "update p_aux") {
  const p = snapPaths(location, j);
  mkdirSync(p.updateCache, { recursive: true });
  mkdirSync(join(p.update, ".."), { recursive: true });
  writeFileSync(p.update, "UPDATED");
  for (const f of ["sc-02-data-tree-r-last.dat", "t_aux"]) writeFileSync(join(p.updateCache, f), f);
  writeFileSync(join(p.updateCache, "p_aux"), aux);
  return p;
}

describe("SnapProved: persist update/ and update-cache/", () => {
  const store = { Name: "persist-1", Path: "", Strict: false, ReadOnly: false, Weight: 1, Meta: null };

  test("reserves room in a writable store and copies the update there", async () => {
    const t = setup("persist", { "Venus.StoreReserveSpace": () => store });
    const j = job("SnapProved");
    const p = localUpdate(t.location, j);
    expect(await t.steps.exec("SnapProved", ctxFor(j))).toEqual({
      event: "Persist",
      patch: { persist_instance: "persist-1" },
    });
    expect(t.calls[0]).toEqual({
      method: "Venus.StoreReserveSpace",
      args: [{ Miner: 1000, Number: 4 }, 4096, ["persist-1"]],
    });
    expect(readFileSync(join(t.persist.location, "update", p.name), "utf8")).toBe("UPDATED");
    for (const f of ["sc-02-data-tree-r-last.dat", "p_aux", "t_aux"])
      expect(lstatSync(join(t.persist.location, "update-cache", p.name, f)).isFile()).toBe(true);
    expect(existsSync(join(t.persist.location, "sealed"))).toBe(false);
  });

  test("no room yet is an idle round; a different update already in the store is never overwritten", async () => {
    const none = setup("persist-none", { "Venus.StoreReserveSpace": () => null });
    const j = job("SnapProved");
    localUpdate(none.location, j);
    expect(await none.steps.exec("SnapProved", ctxFor(j))).toEqual({ idle: true });

    const t = setup("persist-clash", { "Venus.StoreReserveSpace": () => store });
    const p = localUpdate(t.location, j, "this encoding");
    mkdirSync(join(t.persist.location, "update-cache", p.name), { recursive: true });
    mkdirSync(join(t.persist.location, "update"), { recursive: true });
    writeFileSync(join(t.persist.location, "update", p.name), "ANOTHER");
    writeFileSync(join(t.persist.location, "update-cache", p.name, "p_aux"), "another encoding");
    const f = await failureOf(t.steps.exec("SnapProved", ctxFor(j)));
    expect(f.level).toBe("permanent");
    expect(f.message).toContain("refusing to overwrite it");
    expect(readFileSync(join(t.persist.location, "update", p.name), "utf8")).toBe("ANOTHER");
  });
});

describe("Persisted: SubmitSnapUpProof", () => {
  const phases = {
    deals: [DEAL],
    snap_encode_out: {
      comm_r_new: Array(32).fill(7),
      comm_r_last_new: Array(32).fill(8),
      comm_d_new: Array(32).fill(9),
    },
    snap_prov_out: [1, 2, 3],
    persist_instance: "persist-1",
  };
  const submit = (res: number) =>
    setup(`submit-${res}`, { "Venus.SubmitSnapUpProof": () => ({ Res: res, Desc: "why" }) });

  test("submits the new commitments, the store, the piece CIDs and the proof; accepted finishes", async () => {
    const t = submit(SubmitResult.Accepted);
    expect(await t.steps.exec("Persisted", ctxFor(job("Persisted", phases)))).toEqual({ event: "Finish" });
    const info: SnapUpOnChainInfo = {
      CommR: phases.snap_encode_out.comm_r_new,
      CommD: phases.snap_encode_out.comm_d_new,
      AccessInstance: "persist-1",
      Pieces: [DEAL.Piece.Cid],
      Proof: Buffer.from([1, 2, 3]).toString("base64"),
    };
    expect(t.calls[0]).toEqual({ method: "Venus.SubmitSnapUpProof", args: [{ Miner: 1000, Number: 4 }, info] });
    expect(
      await submit(SubmitResult.DuplicateSubmit).steps.exec("Persisted", ctxFor(job("Persisted", phases))),
    ).toEqual({
      event: "Finish",
    });
  });

  test("FilesMissed persists again; a mismatch or a rejection aborts; anything else is retried", async () => {
    expect(await submit(SubmitResult.FilesMissed).steps.exec("Persisted", ctxFor(job("Persisted", phases)))).toEqual({
      event: "RePersist",
      patch: { persist_instance: undefined },
    });
    for (const [res, level] of [
      [SubmitResult.MismatchedSubmission, "abort"],
      [SubmitResult.Rejected, "abort"],
      [SubmitResult.Unknown, "temporary"],
    ] as const) {
      const f = await failureOf(submit(res).steps.exec("Persisted", ctxFor(job("Persisted", phases))));
      expect([res, f.level, f.message.endsWith(": why")]).toEqual([res, level, true]);
    }
  });
});

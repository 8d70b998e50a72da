/**
 * A manager outage must not park the worker (issue 15): sealer threads against a stand-in manager (the
 * Venus API on a real socket, no proofs) that is stopped for longer than max_retries × recover_interval and
 * started again on the same port. An idle thread keeps asking for a sector and gets one after the restart;
 * a thread holding a sector waits on its next RPC without counting retries; an unseal thread waits too;
 * none pauses, no resume needed, and `worker list` shows them waiting on the manager meanwhile.
 */

import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { type ConsolaInstance, createConsola } from "consola";
import { Hono } from "hono";
import { openAuthenticator } from "../../src/core/auth/index.ts";
import { SEALING_DEFAULTS } from "../../src/core/config/index.ts";
import { Failure } from "../../src/core/errors/index.ts";
import { mountRpc, RpcRegistry, type RunningServer, serve } from "../../src/core/rpc/index.ts";
import { Venus } from "../../src/core/sector/api.ts";
import { SEAL_PROOFS } from "../../src/core/sector/proof.ts";
import { ManagerClient, ManagerUnreachable } from "../../src/worker/manager-client.ts";
import { sealerSteps } from "../../src/worker/planners/sealer-steps.ts";
import { unsealSteps } from "../../src/worker/planners/unseal-steps.ts";
import { StageRunner } from "../../src/worker/stages.ts";
import { ThreadStateStore } from "../../src/worker/state/store.ts";
import { erasePlan, SealingThread } from "../../src/worker/thread.ts";
import { tempDir } from "../manager/helpers.ts";

const dir = tempDir("damocles-manager-outage-");
afterAll(() => dir.remove());

const PROOF_2K = SEAL_PROOFS.find((p) => p.sectorSize === 2048)!.id;

function capturingLog(): { log: ConsolaInstance; lines: string[] } {
  const lines: string[] = [];
  const log = createConsola({
    level: 4,
    reporters: [{ log: (o) => lines.push(`${o.type}: ${o.args.map(String).join(" ")}`) }],
  });
  return { log, lines };
}

/** What the stand-in manager remembers across restarts, like a manager's home directory. */
interface ManagerHome {
  /** Sectors handed out so far; the first `limit` AllocateSector calls get one, later ones get null. */
  allocated: number;
  limit: number;
  calls: string[];
  /** AcquireDeals answers only once this resolves: the thread holding a sector stays in flight. */
  dealsGate: Promise<void>;
}

function startManager(home: ManagerHome, port: number): RunningServer {
  const registry = new RpcRegistry()
    .implement(Venus.AllocateSector, () => {
      if (home.allocated >= home.limit) return null;
      home.allocated++;
      return { ID: { Miner: 1000, Number: home.allocated }, ProofType: PROOF_2K };
    })
    .implement(Venus.AcquireDeals, async () => {
      await home.dealsGate;
      return null;
    })
    .implement(Venus.ReportState, (id) => ({ Id: id, Finalized: false, AbortReason: null }));
  registry.observe((m) => home.calls.push(m));
  const app = new Hono();
  mountRpc(app, registry, openAuthenticator);
  return serve({ auth: openAuthenticator, app, registry, hostname: "127.0.0.1", port });
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

test("a manager stopped longer than max_retries × recover_interval pauses no thread; sealing goes on after", async () => {
  let releaseDeals = () => {};
  const home: ManagerHome = {
    allocated: 0,
    limit: 1,
    calls: [],
    dealsGate: new Promise<void>((r) => {
      releaseDeals = r;
    }),
  };
  let server = startManager(home, 0);
  const port = server.server.port!;
  const { log, lines } = capturingLog();
  const manager = new ManagerClient(server.url, "w-test", log);
  const settings = { ...SEALING_DEFAULTS, recover_interval: 40, seal_interval: 5, max_retries: 2, enable_deals: true };
  const stages = new StageRunner(new Map(), new Map(), { concurrent: {}, staggered: {} });
  const threads = [0, 1].map((index) => {
    const location = join(dir.path, `t${index}`);
    const plan = erasePlan(
      sealerSteps({
        manager,
        stages,
        location,
        attached: [],
        staticTreeD: {},
        pieces: { localDirs: [], storeUrl: `${server.url}/piecestore` },
      }),
    );
    return new SealingThread({
      index,
      location,
      store: new ThreadStateStore(location),
      resolve: async () => ({ plan, settings }),
      reporter: manager.reporter(location),
      log,
    });
  });
  // An unseal thread too: this manager serves no unseal tasks (an error answer, an empty round as before).
  const unsealLocation = join(dir.path, "unseal");
  const unsealPlan = erasePlan(
    unsealSteps({
      manager,
      stages,
      location: unsealLocation,
      attached: [],
      pieceToken: undefined,
      managerToken: undefined,
      pieceStoreUrl: `${server.url}/piecestore`,
    }),
  );
  const unsealer = new SealingThread({
    index: 2,
    location: unsealLocation,
    store: new ThreadStateStore(unsealLocation),
    resolve: async () => ({ plan: unsealPlan, settings }),
    reporter: manager.reporter(unsealLocation),
    log,
  });
  for (const t of [...threads, unsealer]) void t.start();
  try {
    // One thread holds sector 1 and waits in AcquireDeals; the other keeps asking for a sector.
    const holder = () => threads.find((t) => t.status().job?.sector?.number === 1);
    await until(() => holder()?.status().job?.state === "Allocated", "sector 1 allocated");
    const idle = threads.find((t) => t !== holder())!;
    await until(() => home.calls.filter((c) => c === "Venus.AllocateSector").length >= 3, "idle rounds");

    await server.stop();
    // Far longer than max_retries × recover_interval (80 ms): the old worker paused here.
    const outageMs = 20 * settings.max_retries * settings.recover_interval;
    const end = Date.now() + outageMs;
    while (Date.now() < end) {
      for (const t of [...threads, unsealer]) expect(t.status().paused).toBe(false);
      await Bun.sleep(20);
    }
    for (const t of [...threads, unsealer]) {
      expect(t.status().activity).toEqual({ kind: "waiting", on: "manager" });
      expect(t.status().paused).toBe(false);
    }
    expect(holder()!.status().job?.retry).toBe(0);
    expect(holder()!.status().job?.state).toBe("Allocated");

    home.limit = 2;
    server = startManager(home, port);
    await until(() => idle.status().job?.sector?.number === 2, "sector 2 allocated after the restart");
    await until(() => idle.status().job?.state === "Allocated", "sector 2 in Allocated");
    for (const t of [...threads, unsealer]) expect(t.status().paused).toBe(false);
    await until(() => unsealer.status().activity.kind === "idle", "the unseal thread idle again");
    // Both sectors go on past AcquireDeals (then stop at add_pieces: this worker has no processors).
    releaseDeals();
    await until(
      () => threads.every((t) => t.status().job?.state === "DealsAcquired"),
      "both sectors past AcquireDeals",
    );
    expect(lines.filter((l) => l.includes("sector manager is unreachable"))).toHaveLength(1);
    expect(lines.filter((l) => l.includes("sector manager answers again"))).toHaveLength(1);
    expect(lines.filter((l) => l.includes("gave up after"))).toEqual([]);
  } finally {
    releaseDeals();
    for (const t of [...threads, unsealer]) await t.stop();
    manager.rpc.close();
    await server.stop();
  }
});

test("ManagerClient: only an unreachable manager is an outage; an error answer keeps its level", async () => {
  const home: ManagerHome = { allocated: 0, limit: 0, calls: [], dealsGate: Promise.resolve() };
  const server = startManager(home, 0);
  const { log, lines } = capturingLog();
  const manager = new ManagerClient(server.url, "w-test", log);
  try {
    // Not served by this manager: an RPC error answer, temporary as before (counted against max_retries).
    const answered = await manager.call(Venus.AssignTicket, { Miner: 1000, Number: 1 }).catch((e: unknown) => e);
    expect(answered).toBeInstanceOf(Failure);
    expect(answered).not.toBeInstanceOf(ManagerUnreachable);
    expect((answered as Failure).level).toBe("temporary");
    await server.stop();
    for (let i = 0; i < 3; i++) {
      const down = await manager
        .call(Venus.AllocateSector, { AllowedMiners: null, AllowedProofTypes: null })
        .catch((e: unknown) => e);
      expect(down).toBeInstanceOf(ManagerUnreachable);
    }
    expect(lines.filter((l) => l.includes("unreachable"))).toHaveLength(1);
  } finally {
    manager.rpc.close();
  }
});

import { createSocket } from "node:dgram";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { ConsolaInstance } from "consola";
import { Hono } from "hono";
import { expandHome } from "../core/config/expand-home.ts";
import {
  formatDiagnostic,
  loadThreadHotConfig,
  loadWorkerConfig,
  mergeSealing,
  PLANS,
  type Plan,
  type ProcessorConfig,
  parseListenAddr,
  type ResolvedThread,
  type SealingSettings,
  type WorkerConfig,
} from "../core/config/index.ts";
import { childLogger, logger } from "../core/log/index.ts";
import { MetricsRegistry, PROMETHEUS_CONTENT_TYPE } from "../core/metrics/index.ts";
import { loadPlugins } from "../core/plugin/loader.ts";
import { ExtLocks, type PoolMemberSpec, ProcessorPool } from "../core/processor/pool.ts";
import { PIECE_TOKEN_ENV } from "../core/processor/stages/seal.ts";
import { mountRpc, RpcRegistry, type RunningServer, serve } from "../core/rpc/server.ts";
import { Venus } from "../core/sector/api.ts";
import { selfCommand } from "../core/self.ts";
import { sleep } from "../core/sync/semaphore.ts";
import { VERSION_STRING } from "../core/version.ts";
import { builtinPlugins } from "../plugins/index.ts";
import { checkManagerAccess, managerHeaders, managerVerifiedAuth, workerToken } from "./auth.ts";
import { ManagerClient } from "./manager-client.ts";
import { rebuildSteps } from "./planners/rebuild-steps.ts";
import { pieceStoreUrl } from "./planners/sealer-deals.ts";
import { sealerSteps } from "./planners/sealer-steps.ts";
import { snapupSteps } from "./planners/snapup-steps.ts";
import { unsealSteps } from "./planners/unseal-steps.ts";
import { WdPoStLink } from "./planners/wdpost-link.ts";
import { MemoryJobStore } from "./planners/wdpost-memory-store.ts";
import { wdpostSteps } from "./planners/wdpost-steps.ts";
import { implementWorkerApi } from "./rpc/service.ts";
import { StageRunner } from "./stages.ts";
import { ThreadStateStore } from "./state/store.ts";
import { type AnyPlanImpl, erasePlan, SealingThread } from "./thread.ts";

const log = childLogger("worker");

const isPlan = (name: string): name is ResolvedThread["plan"] => (PLANS as readonly string[]).includes(name);

/**
 * The worker daemon: validates its configuration against the machine and the manager before it seals
 * anything, starts external processors, runs one loop per sealing thread, serves VenusWorker RPC and
 * pings the manager. Everything it must not lose lives in each thread's store.
 */
export interface RunningWorker {
  threads: SealingThread[];
  rpc: RunningServer;
  stop(): Promise<void>;
}

export class WorkerStartError extends Error {
  override name = "WorkerStartError";
}

/** The local address this machine uses to reach the manager: the default instance name. */
async function localAddressTowards(url: string): Promise<string> {
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "localhost" || host.startsWith("127.") || host === "::1") return "127.0.0.1";
  return new Promise((resolve) => {
    const s = createSocket(host.includes(":") ? "udp6" : "udp4");
    s.on("error", () => {
      s.close();
      resolve("127.0.0.1");
    });
    s.connect(9, host, () => {
      const addr = s.address().address;
      s.close();
      resolve(addr);
    });
  });
}

/**
 * Hands `sector_manager.piece_token` to whatever runs add_pieces, as the original does: into the envs of
 * every [[processors.add_pieces]] entry, or, when add_pieces runs in-process, into the worker's own env.
 */
function exportPieceToken(cfg: WorkerConfig): void {
  const token = pieceToken(cfg);
  if (!token) return;
  const entries = cfg.processors.stages.add_pieces ?? [];
  if (entries.length === 0) process.env[PIECE_TOKEN_ENV] = token;
  for (const e of entries) e.envs = { ...e.envs, [PIECE_TOKEN_ENV]: token };
}

/** The token of piece downloads: `piece_token`, else the worker's manager token (a write token may read). */
function pieceToken(cfg: WorkerConfig): string | undefined {
  return cfg.sector_manager.piece_token ?? workerToken(cfg);
}

export function childSpecs(
  stage: string,
  entries: readonly ProcessorConfig[],
  pluginsDir: string | undefined,
): PoolMemberSpec[] {
  const self = selfCommand();
  return entries.map((p, index) => {
    const base: Record<string, string> = p.inherit_envs
      ? (Object.fromEntries(Object.entries(process.env).filter(([, val]) => val !== undefined)) as Record<
          string,
          string
        >)
      : {};
    if (pluginsDir) base.DAMOCLES_PLUGINS_DIR = pluginsDir;
    return {
      stage,
      index,
      command: p.bin ? [expandHome(p.bin), ...(p.args ?? [])] : [...self, ...(p.args ?? ["processor", stage])],
      env: { ...base, ...p.envs },
      stableWaitMs: p.stable_wait,
      autoRestart: p.auto_restart,
      cpuset: p.cgroup?.cpuset,
      cgroupGroupName: p.cgroup?.group_name,
      numaPreferred: p.numa_preferred,
      concurrent: p.concurrent,
      locks: p.locks,
    };
  });
}

async function checkStoresKnown(manager: ManagerClient, cfg: WorkerConfig): Promise<void> {
  for (const a of cfg.attached) {
    if (!existsSync(a.location))
      throw new WorkerStartError(`[[attached]] ${a.name}: location ${a.location} does not exist`);
    let info: unknown;
    try {
      info = await manager.rpc.call(Venus.StoreBasicInfo, a.name);
    } catch (err) {
      throw new WorkerStartError(`cannot ask the manager about store "${a.name}": ${(err as Error).message}`);
    }
    if (!info) {
      throw new WorkerStartError(
        `the manager does not know the attached store "${a.name}": add it to [[Common.PersistStores]] (Name = "${a.name}") or fix [[attached]] name`,
      );
    }
  }
}

type PlanDeps = Omit<Parameters<typeof sealerSteps>[0], "location"> &
  Omit<Parameters<typeof unsealSteps>[0], "location"> & { wdpost: WdPoStLink };

function planFor(thread: ResolvedThread, deps: PlanDeps): AnyPlanImpl {
  if (thread.plan === "wdpost") {
    if (!deps.stages.has("window_post")) {
      throw new WorkerStartError(
        `sealing_thread[${thread.index}]: plan "wdpost" needs a window_post stage: no built-in plugin, no plugins/ entry and no [[processors.window_post]]`,
      );
    }
    return erasePlan(wdpostSteps({ link: deps.wdpost, stages: deps.stages, attached: deps.attached }));
  }
  if (thread.plan === "unseal") {
    if (!thread.location) throw new WorkerStartError(`sealing_thread[${thread.index}]: plan "unseal" needs a location`);
    return erasePlan(unsealSteps({ ...deps, location: thread.location }));
  }
  if (thread.plan !== "sealer" && thread.plan !== "rebuild" && thread.plan !== "snapup") {
    throw new WorkerStartError(
      `sealing_thread[${thread.index}]: plan "${thread.plan}" is not available in this build (sealer, snapup, rebuild, unseal and wdpost are)`,
    );
  }
  if (!thread.location)
    throw new WorkerStartError(`sealing_thread[${thread.index}]: plan "${thread.plan}" needs a location`);
  const location = thread.location;
  if (thread.plan === "rebuild") return erasePlan(rebuildSteps({ ...deps, location }));
  if (thread.plan === "snapup") return erasePlan(snapupSteps({ ...deps, location }));
  return erasePlan(sealerSteps({ ...deps, location }));
}

/**
 * A thread's plan and settings before each sector: `[[sealing_thread]]` with its hot `<location>/config.toml`
 * on top, read afresh each time. A hot file that does not load, or names a plan this worker cannot run, is
 * logged and the thread keeps what it had (never stops). `keepPlan` builds a job's own plan instead.
 */
function threadResolver(t: ResolvedThread, deps: PlanDeps, tlog: ConsolaInstance) {
  let last: { plan: AnyPlanImpl; settings: SealingSettings } | undefined;
  const hotFile = t.location ? join(t.location, "config.toml") : undefined;
  return async (keepPlan?: string): Promise<{ plan: AnyPlanImpl; settings: SealingSettings }> => {
    let hot: NonNullable<Awaited<ReturnType<typeof loadThreadHotConfig>>>["value"] | undefined;
    try {
      hot = t.location ? (await loadThreadHotConfig(t.location))?.value : undefined;
    } catch (err) {
      tlog.error(`${hotFile} ignored: ${(err as Error).message}`);
      if (last && keepPlan === undefined) return last;
    }
    const sealing = mergeSealing(t.sealing, hot?.sealing);
    const build = (plan: Plan) => planFor({ ...t, plan, sealing }, deps);
    if (keepPlan !== undefined) {
      if (!isPlan(keepPlan))
        throw new Error(`the saved job has plan "${keepPlan}", which this worker does not know (${PLANS.join(", ")})`);
      last = { plan: build(keepPlan), settings: sealing };
      return last;
    }
    let plan: AnyPlanImpl;
    try {
      plan = build(hot?.plan ?? t.plan);
    } catch (err) {
      if (!(err instanceof WorkerStartError)) throw err;
      plan = last?.plan ?? build(t.plan);
      tlog.error(`${hotFile}: ${err.message}; the thread keeps plan "${plan.table.name}"`);
    }
    last = { plan, settings: sealing };
    return last;
  };
}

export async function startWorker(configPath: string): Promise<RunningWorker> {
  const loaded = await loadWorkerConfig(configPath);
  for (const w of loaded.warnings) log.warn(formatDiagnostic(w));
  const cfg = loaded.value;
  if (cfg.threads.length === 0) throw new WorkerStartError(`${configPath}: no [[sealing_thread]]: nothing to do`);
  for (const t of cfg.threads) {
    // A wdpost thread needs no sealing store (seed 002); given a location, it only keeps its job there.
    if (t.plan === "wdpost") continue;
    if (!t.location) throw new WorkerStartError(`sealing_thread[${t.index}] needs a location`);
    if (!existsSync(join(t.location, ".holder"))) {
      throw new WorkerStartError(
        `sealing_thread[${t.index}]: ${t.location} is not an initialised sealing store; run: damocles worker store sealing-init -l ${t.location}`,
      );
    }
  }

  const localIp = await localAddressTowards(cfg.sector_manager.rpcUrl);
  const instance = cfg.worker.name ?? localIp;
  const manager = new ManagerClient(cfg.sector_manager.rpcUrl, instance, log, managerHeaders(cfg));
  const ownToken = workerToken(cfg);
  const refused = await checkManagerAccess(manager.rpc, ownToken).catch((err: Error) => {
    throw new WorkerStartError(`cannot reach the sector manager at ${cfg.sector_manager.rpcUrl}: ${err.message}`);
  });
  if (refused) throw new WorkerStartError(`${cfg.sector_manager.rpcUrl}: ${refused}`);
  await checkStoresKnown(manager, cfg);

  exportPieceToken(cfg);
  const pluginsDir = cfg.worker.plugins_dir ?? join(dirname(configPath), "plugins");
  const registry = await loadPlugins(builtinPlugins, pluginsDir);
  const extLocks = new ExtLocks(cfg.processors.ext_locks);
  const pools = new Map<string, ProcessorPool>();
  for (const [stage, entries] of Object.entries(cfg.processors.stages)) {
    if (entries.length === 0) continue;
    pools.set(
      stage,
      new ProcessorPool(stage, childSpecs(stage, entries, existsSync(pluginsDir) ? pluginsDir : undefined), extLocks),
    );
  }
  try {
    await Promise.all([...pools.values()].map((p) => p.start()));
  } catch (err) {
    await Promise.all([...pools.values()].map((p) => p.stop()));
    throw new WorkerStartError(`external processors did not start: ${(err as Error).message}`);
  }
  const stages = new StageRunner(registry, pools, cfg.processors.limitation);
  const wdpost = new WdPoStLink(manager.rpc, instance, childLogger("wdpost"));
  const pieceStore = pieceStoreUrl(cfg.sector_manager.rpcUrl);
  const planDeps: PlanDeps = {
    manager,
    stages,
    attached: cfg.attached,
    staticTreeD: cfg.processors.static_tree_d,
    pieceToken: cfg.sector_manager.piece_token,
    managerToken: pieceToken(cfg),
    pieceStoreUrl: pieceStore,
    pieces: {
      localDirs: (cfg.worker.local_pieces_dirs ?? []).map((d) => resolve(d)),
      storeUrl: pieceStore,
    },
    wdpost,
  };

  const threads = cfg.threads.map((t) => {
    const location = t.location;
    const store = location ? new ThreadStateStore(location) : new MemoryJobStore();
    const tlog = logger.withTag(`thread#${t.index}`);
    return new SealingThread({
      index: t.index,
      location: location ?? "-",
      store,
      reporter: manager.reporter(location ?? "-"),
      log: tlog,
      resolve: threadResolver(t, planDeps, tlog),
    });
  });
  // Fail before any thread starts if a plan is not available.
  for (const t of cfg.threads) planFor(t, planDeps);

  const rpcRegistry = new RpcRegistry();
  const children = [...pools.values()].flatMap((p) => p.children);
  implementWorkerApi(rpcRegistry, threads, children);
  const app = new Hono();
  const rpcAuth = managerVerifiedAuth(manager.rpc, ownToken);
  mountRpc(app, rpcRegistry, rpcAuth, "/rpc/v0");
  mountRpc(app, rpcRegistry, rpcAuth, "/"); // the original worker answers at the root path
  const rpc = serve({
    app,
    registry: rpcRegistry,
    auth: rpcAuth,
    hostname: cfg.worker.rpc_server.host,
    port: cfg.worker.rpc_server.port,
  });
  log.info(
    `VenusWorker RPC on ${cfg.worker.rpc_server.host}:${rpc.server.port}; instance ${instance}; manager ${cfg.sector_manager.rpcUrl}`,
  );

  const metrics = startMetrics(cfg, threads);
  // Dest is where the manager's `util worker info|pause|resume` reach this worker.
  const host =
    cfg.worker.rpc_server.host === "0.0.0.0" || cfg.worker.rpc_server.host === "::"
      ? localIp
      : cfg.worker.rpc_server.host;
  const stopPing = pingLoop(manager, cfg, instance, `${host}:${rpc.server.port}`, threads);
  for (const t of threads) void t.start();

  return {
    threads,
    rpc,
    async stop() {
      stopPing();
      await Promise.all(threads.map((t) => t.stop()));
      await wdpost.stop();
      await Promise.all([...pools.values()].map((p) => p.stop()));
      await rpc.stop();
      await metrics?.stop();
      manager.rpc.close();
    },
  };
}

function summary(threads: readonly SealingThread[]) {
  const s = { Threads: threads.length, Empty: 0, Paused: 0, Running: 0, Waiting: 0, Errors: 0 };
  for (const t of threads) {
    const st = t.status();
    if (!st.job) s.Empty++;
    if (st.paused) s.Paused++;
    else if (st.activity.kind === "running") s.Running++;
    else if (st.activity.kind === "waiting") s.Waiting++;
    if (st.lastError) s.Errors++;
  }
  return s;
}

function pingLoop(
  manager: ManagerClient,
  cfg: WorkerConfig,
  instance: string,
  dest: string,
  threads: readonly SealingThread[],
): () => void {
  const ac = new AbortController();
  void (async () => {
    while (!ac.signal.aborted) {
      try {
        await manager.rpc.call(Venus.WorkerPing, {
          Name: instance,
          Dest: dest,
          Version: VERSION_STRING,
          Summary: summary(threads),
        });
      } catch (err) {
        log.warn(`WorkerPing failed: ${(err as Error).message}`);
      }
      await sleep(cfg.worker.ping_interval, ac.signal).catch(() => {});
    }
  })();
  return () => ac.abort();
}

function startMetrics(cfg: WorkerConfig, threads: readonly SealingThread[]): { stop(): Promise<void> } | undefined {
  if (!cfg.metrics.enable) return undefined;
  const reg = new MetricsRegistry("damocles_worker_");
  const byState = reg.gauge("threads", "sealing threads by state");
  byState.collect = (g) => {
    g.reset();
    const s = summary(threads);
    for (const [k, n] of Object.entries(s)) if (k !== "Threads") g.set(n, { state: k.toLowerCase() });
  };
  const byStage = reg.gauge("thread_stage", "sealing threads per sector state");
  byStage.collect = (g) => {
    g.reset();
    for (const t of threads) {
      const st = t.status();
      if (st.job) g.inc({ state: st.job.state });
    }
  };
  const listen = parseListenAddr(cfg.metrics.http_listen)!;
  const app = new Hono();
  app.get("/metrics", (c) => c.body(reg.render(), 200, { "content-type": PROMETHEUS_CONTENT_TYPE }));
  const server = Bun.serve({ hostname: listen.host, port: listen.port, fetch: app.fetch });
  log.info(`metrics on http://${listen.host}:${server.port}/metrics`);
  return { stop: () => server.stop(true) };
}

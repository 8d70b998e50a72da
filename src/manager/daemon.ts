import { join } from "node:path";
import { Hono } from "hono";
import type { ManagerConfig } from "../core/config/index.ts";
import { childLogger } from "../core/log/index.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../core/metrics/index.ts";
import { mountRpc, RpcRegistry, type RunningServer, serve } from "../core/rpc/index.ts";
import { sectorName } from "../core/sector/index.ts";
import { KVStore } from "../core/store/index.ts";
import { VERSION, VERSION_STRING } from "../core/version.ts";
import { type Beacon, DevnetChain } from "./chain/devnet.ts";
import { type DevnetConfig, devnetSettings } from "./chain/devnet-config.ts";
import { type PresealManifest, presealSectors, readPresealManifest } from "./chain/preseal.ts";
import { loadPoStVerifier, loadProofsVerifier } from "./chain/proofs-verifier.ts";
import { acceptAllPoStVerifier, acceptAllVerifier, type SealVerifier } from "./chain/verifier.ts";
import { CommitManager } from "./commit/manager.ts";
import type { CommitMiner } from "./commit/policy.ts";
import { ManagerMetrics } from "./metrics.ts";
import { createProvingModule, type ProvingFlags, type ProvingModule } from "./poster/module.ts";
import { registerPoStChainApi } from "./proxy/chain-api.ts";
import { registerSealerApi, type SealerServices } from "./sealer-api.ts";
import { type AllocatableMiner, SectorAllocator } from "./sectors/allocator.ts";
import { SectorIndexer } from "./sectors/indexer.ts";
import { SectorNumbers } from "./sectors/numbers.ts";
import { SectorStates } from "./sectors/states.ts";
import { PersistStores } from "./stores/persist.ts";
import { registerUnsealApi } from "./unseal/index.ts";
import { WorkerRegistry } from "./workers/registry.ts";

const log = childLogger("manager");

export const MANAGER_DB_FILE = "damocles.db";

export interface ManagerOptions {
  home: string;
  config: ManagerConfig;
  hostname: string;
  port: number;
  /** Overrides config.Common.Devnet (tests). */
  devnet?: DevnetConfig;
  /** Overrides the verifier chosen from the config (tests). */
  verifier?: SealVerifier;
  /** Overrides the devnet's randomness beacon (tests holding a sector sealed with known randomness). */
  beacon?: Beacon;
  now?: () => number;
  /** --poster, --miner, --worker-prover, --ext-prover, --warmup. */
  proving?: ProvingFlags;
  /** Where sector-manager.cfg / ext-prover.cfg were read from (default: home). */
  confDir?: string;
}

export interface RunningManager {
  url: string;
  port: number;
  services: SealerServices;
  registry: RpcRegistry;
  store: KVStore;
  proving: ProvingModule;
  stop(): Promise<void>;
}

/**
 * Builds and starts the manager: store, devnet chain, services, the Venus API, /healthcheck and /metrics
 * on one Bun.serve. Everything a restart needs is in <home>/damocles.db.
 */
export async function startManager(opts: ManagerOptions): Promise<RunningManager> {
  const { config } = opts;
  const store = KVStore.open(join(opts.home, MANAGER_DB_FILE));
  const devnet = opts.devnet ?? devnetSettings(config.Common.Devnet);
  const verifier =
    opts.verifier ?? (devnet.InsecureSkipProofVerification ? acceptAllVerifier : await loadProofsVerifier());
  if (verifier === acceptAllVerifier) {
    log.warn(
      "[Common.Devnet] InsecureSkipProofVerification = true: proofs are NOT verified. Use it for load tests only.",
    );
  }
  log.info(`seal proofs are verified by: ${verifier.name}`);

  const postVerifier = devnet.InsecureSkipProofVerification ? acceptAllPoStVerifier : await loadPoStVerifier();
  const sizeOf = new Map(devnet.Miners.map((m) => [m.Actor, m.SectorSize]));
  const manifests: PresealManifest[] = devnet.Miners.filter((m) => m.PreSealed).map((m) =>
    readPresealManifest(m.PreSealed!, m.Actor),
  );
  const chain = new DevnetChain({
    store,
    settings: devnet,
    verifier,
    postVerifier,
    preseal: manifests.flatMap(presealSectors),
    miners: config.Miners.map((m) => ({ actor: m.Actor, sectorSize: sizeOf.get(m.Actor) ?? 2048 })),
    now: opts.now,
    beacon: opts.beacon,
  });

  const chainMiners = new Map((await chain.listMiners()).map((m) => [m.actor, m]));
  const allocatable: AllocatableMiner[] = config.Miners.filter((m) => chainMiners.has(m.Actor)).map((m) => ({
    actor: m.Actor,
    sealProofType: chainMiners.get(m.Actor)!.sealProofType,
    enabled: m.Sector.Enabled,
    bounds: { initNumber: m.Sector.InitNumber, minNumber: m.Sector.MinNumber, maxNumber: m.Sector.MaxNumber },
    verbose: m.Sector.Verbose,
  }));
  const commitMiners: CommitMiner[] = config.Miners.filter((m) => chainMiners.has(m.Actor)).map((m) => ({
    actor: m.Actor,
    sectorSize: chainMiners.get(m.Actor)!.sectorSize,
    pre: {
      threshold: m.Commitment.Pre.Batch.Threshold,
      maxWaitMs: m.Commitment.Pre.Batch.MaxWait,
      checkIntervalMs: m.Commitment.Pre.Batch.CheckInterval,
    },
    prove: {
      threshold: m.Commitment.Prove.Batch.Threshold,
      maxWaitMs: m.Commitment.Prove.Batch.MaxWait,
      checkIntervalMs: m.Commitment.Prove.Batch.CheckInterval,
    },
  }));

  const metrics = new ManagerMetrics(VERSION);
  const states = new SectorStates(store);
  const numbers = new SectorNumbers(store);
  const commit = new CommitManager({
    store,
    states,
    chain,
    verifier,
    miners: () => commitMiners,
    metrics,
    now: opts.now,
  });
  const services: SealerServices = {
    states,
    allocator: new SectorAllocator({
      store,
      numbers,
      states,
      miners: () => allocatable,
      allocatedOnChain: (actor, n) => chain.isSectorNumberAllocated(actor, n),
      onAllocated: (s) => {
        metrics.newSector.inc({ miner: s.ID.Miner });
        log.debug(`allocated ${sectorName(s.ID)}`);
      },
    }),
    commit,
    stores: new PersistStores(store, config.Common.PersistStores),
    indexer: new SectorIndexer(store),
    workers: new WorkerRegistry(store, opts.now),
    chain,
    metrics,
  };

  // Pre-sealed sectors live in a persist store from the start: index them there (idempotent).
  for (const m of manifests) {
    for (const sct of m.Sectors) {
      if (await chain.sectorInfo(m.Actor, sct.Number))
        services.indexer.update("normal", { Miner: m.Actor, Number: sct.Number }, { sealed: m.Store, cache: m.Store });
    }
  }

  const registry = new RpcRegistry();
  registerSealerApi(registry, services);
  registerPoStChainApi(registry, chain);
  registerUnsealApi(registry, { ...services, store, actors: () => allocatable.map((m) => m.actor) });
  const proving = await createProvingModule({
    flags: opts.proving ?? {},
    config,
    confDir: opts.confDir ?? opts.home,
    chain,
    store,
    registry,
    metrics: metrics.registry,
    locator: { find: async (type, sid) => services.indexer.find(type, sid) },
    storePaths: (name) => services.stores.pathOf(name),
    now: opts.now,
  });
  registry.observe((method, ms, ok) => metrics.observeCall(method, ms, ok));

  metrics.onlineSectors.collect = (g) => g.set(states.countOnline());
  metrics.threads.collect = () =>
    metrics.collectWorkers(services.workers.list(), Math.floor((opts.now ?? Date.now)() / 1000));
  chain.onEpoch((epoch) => {
    metrics.chainHead.set(epoch);
    commit.observeLandings().catch((err) => log.warn("observing message landings failed:", err));
    proving.onEpoch(epoch);
  });

  const app = new Hono();
  app.get("/healthcheck", (c) => c.text("ok\n"));
  app.get("/metrics", (c) => c.body(metrics.registry.render(), 200, { "content-type": PROMETHEUS_CONTENT_TYPE }));
  mountRpc(app, registry);

  await chain.tick();
  chain.start();
  await commit.start();
  await proving.start();
  let server: RunningServer;
  try {
    server = serve({ app, registry, hostname: opts.hostname, port: opts.port });
  } catch (err) {
    commit.stop();
    await proving.stop();
    chain.close();
    store.close();
    throw err;
  }
  metrics.apiState.set(1);
  log.info(
    `${VERSION_STRING} listening on ${server.url} (rpc ${server.url}/rpc/v0), home ${opts.home}, ${config.Miners.length} miner(s)`,
  );

  return {
    url: server.url,
    port: server.server.port ?? opts.port,
    services,
    registry,
    store,
    proving,
    async stop() {
      metrics.apiState.set(0);
      commit.stop();
      await proving.stop();
      chain.close();
      await server.stop();
      store.close();
    },
  };
}

import { existsSync } from "node:fs";
import { join } from "node:path";
import { Hono } from "hono";
import type { ManagerConfig } from "../../core/config/index.ts";
import { MANAGER_DB_FILE } from "../../core/config/manager-home.ts";
import { childLogger } from "../../core/log/index.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../../core/metrics/index.ts";
import { mountRpc, RpcRegistry, type RunningServer, serve } from "../../core/rpc/index.ts";
import { Damocles, Venus } from "../../core/sector/api.ts";
import { KVStore } from "../../core/store/index.ts";
import { VERSION, VERSION_STRING } from "../../core/version.ts";
import { ManagerMetrics } from "../metrics.ts";
import { createProvingModule, type ProvingFlags, type ProvingModule } from "../proving.ts";
import { SectorIndexer } from "../sectors/indexer.ts";
import type { SectorLocator } from "../stores/locate.ts";
import { PersistStores } from "../stores/persist.ts";
import { RemotePoStChain } from "./remote-chain.ts";
import { RemoteSectorLocator } from "./remote-locator.ts";

const log = childLogger("proxy");

export interface ProxyManagerOptions {
  home: string;
  config: ManagerConfig;
  hostname: string;
  port: number;
  /** --proxy: the source manager (host:port, URL or multiaddr) whose chain and sector index this node reads. */
  source: string;
  /** --proxy-sector-indexer-off: locate sectors with this node's own SectorIndexer instead of the source's. */
  ownSectorIndexer?: boolean;
  /** --poster, --miner, --worker-prover, --ext-prover, --warmup. */
  proving?: ProvingFlags;
  /** Where sector-manager.cfg / ext-prover.cfg were read from (default: home). */
  confDir?: string;
  now?: () => number;
}

export interface RunningProxyManager {
  url: string;
  port: number;
  registry: RpcRegistry;
  store: KVStore;
  chain: RemotePoStChain;
  proving: ProvingModule;
  stop(): Promise<void>;
}

/**
 * A proxy node (seed 002, "Proxy node mode"): a manager without a chain or sealing of its own that proves
 * for the miners of a source manager. The chain is the source's (Damocles.PoStChain*), sector locations
 * come from the source's index (or this node's own with --proxy-sector-indexer-off), persist store names
 * resolve to paths through this node's config. Its own store (<home>/damocles.db) holds only what its
 * poster and worker-prover keep. Serves /healthcheck, /metrics, Venus.Version, Venus.SectorIndexerFind,
 * Damocles.Proving* and, with --worker-prover, Venus.WdPoSt*.
 */
export async function startProxyManager(opts: ProxyManagerOptions): Promise<RunningProxyManager> {
  const { config } = opts;
  const flags = opts.proving ?? {};
  // Before anything is opened: a proxy whose source does not answer has nothing to do.
  const chain = await RemotePoStChain.connect(opts.source);
  const store = KVStore.open(join(opts.home, MANAGER_DB_FILE));
  let remoteLocator: RemoteSectorLocator | undefined;
  let proving: ProvingModule | undefined;
  let stopHeads: (() => void) | undefined;
  const cleanup = async () => {
    stopHeads?.();
    await proving?.stop();
    remoteLocator?.close();
    chain.close();
    store.close();
  };

  try {
    for (const m of config.Miners) {
      if (!(await chain.minerInfo(m.Actor)))
        log.warn(`[[Miners]] f0${m.Actor} is not a miner on the chain of ${opts.source}: nothing to prove for it`);
    }

    let locator: SectorLocator;
    if (opts.ownSectorIndexer) {
      const indexer = new SectorIndexer(store);
      locator = { find: async (type, sid) => indexer.find(type, sid) };
      const entries = store.collection("sector-index").count();
      log.info(
        `sector locations: this node's own SectorIndexer (--proxy-sector-indexer-off), ${entries} entr${entries === 1 ? "y" : "ies"}`,
      );
      if (entries === 0)
        log.warn("this node's own sector index is empty: every sector to prove will be reported as not in the index");
    } else {
      remoteLocator = new RemoteSectorLocator(opts.source);
      locator = remoteLocator;
      log.info(`sector locations: the SectorIndexer of ${opts.source} (Venus.SectorIndexerFind)`);
    }

    const stores = new PersistStores(store, config.Common.PersistStores);
    for (const name of stores.names()) {
      const path = stores.pathOf(name);
      // The index names stores; only this node's config says where they are mounted here.
      if (path && !existsSync(path))
        log.warn(`persist store "${name}" is configured at ${path}, which does not exist on this machine`);
    }

    const metrics = new ManagerMetrics(VERSION);
    const registry = new RpcRegistry();
    registry
      .implement(Venus.Version, () => VERSION_STRING)
      .implement(Venus.SectorIndexerFind, (type, sid) => locator.find(type, sid))
      .implement(Damocles.ChainHead, () => chain.chainHeadInfo());
    proving = await createProvingModule({
      flags,
      config,
      confDir: opts.confDir ?? opts.home,
      chain,
      store,
      registry,
      metrics: metrics.registry,
      locator,
      storePaths: (name) => stores.pathOf(name),
      now: opts.now,
    });
    registry.observe((method, ms, ok) => metrics.observeCall(method, ms, ok));

    const app = new Hono();
    app.get("/healthcheck", (c) => c.text("ok\n"));
    app.get("/metrics", (c) => c.body(metrics.registry.render(), 200, { "content-type": PROMETHEUS_CONTENT_TYPE }));
    mountRpc(app, registry);

    await proving.start();
    const server: RunningServer = serve({ app, registry, hostname: opts.hostname, port: opts.port });
    const provingModule = proving;
    stopHeads = chain.onHead((epoch) => {
      metrics.chainHead.set(epoch);
      provingModule.onEpoch(epoch);
    });
    metrics.apiState.set(1);

    const roles = [flags.poster && "WindowPoSt (--poster)", flags.miner && "blocks (--miner)"]
      .filter(Boolean)
      .join(" and ");
    log.info(
      `${VERSION_STRING} proxy node of ${opts.source} listening on ${server.url} (rpc ${server.url}/rpc/v0), home ${opts.home}, ` +
        `${config.Miners.length} miner(s), proving ${roles || "nothing"}`,
    );
    // Workers dialing this node by mistake get MethodNotFound for every sealing call; say where they belong.
    log.info(
      `this proxy node does not seal: no Venus sealing API here (workers get MethodNotFound); point sealing workers at ${opts.source}`,
    );
    if (!flags.poster && !flags.miner)
      log.warn("neither --poster nor --miner: this proxy node proves nothing and only serves Damocles.Proving*");

    return {
      url: server.url,
      port: server.server.port ?? opts.port,
      registry,
      store,
      chain,
      proving,
      async stop() {
        metrics.apiState.set(0);
        stopHeads?.();
        await server.stop();
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

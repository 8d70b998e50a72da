import { existsSync } from "node:fs";
import { bearer } from "../../core/auth/index.ts";
import { childLogger } from "../../core/log/index.ts";
import { Damocles, Venus } from "../../core/sector/api.ts";
import { VERSION_STRING } from "../../core/version.ts";
import { SectorIndexer } from "../sectors/indexer.ts";
import { type NodeOptions, type RunningNode, startNode } from "../shell.ts";
import type { SectorLocator } from "../stores/locate.ts";
import { PersistStores } from "../stores/persist.ts";
import { RemotePoStChain } from "./remote-chain.ts";
import { RemoteSectorLocator } from "./remote-locator.ts";

const log = childLogger("proxy");

export interface ProxyManagerOptions extends NodeOptions {
  /** --proxy: the source manager (host:port, URL or multiaddr) whose chain and sector index this node reads. */
  source: string;
  /** The token this node sends to the source (--proxy-token / $DAMOCLES_TOKEN): sign, to push its PoSt messages. */
  sourceToken?: string;
  /** --proxy-sector-indexer-off: locate sectors with this node's own SectorIndexer instead of the source's. */
  ownSectorIndexer?: boolean;
}

export interface RunningProxyManager extends RunningNode {
  chain: RemotePoStChain;
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
  const { node, role } = await startNode(opts, async ({ metrics, registry, openStore, onStop }) => {
    // Before anything is opened: a proxy whose source does not answer has nothing to do.
    const headers = bearer(opts.sourceToken);
    const chain = await RemotePoStChain.connect(opts.source, { headers });
    onStop(() => chain.close());
    const store = openStore();
    for (const m of config.Miners) {
      if (!(await chain.minerInfo(m.Actor)))
        log.warn(`[[Miners]] f0${m.Actor} is not a miner on the chain of ${opts.source}: nothing to prove for it`);
    }

    let locator: SectorLocator;
    if (opts.ownSectorIndexer) {
      const indexer = new SectorIndexer(store);
      locator = { find: async (type, sid) => indexer.find(type, sid) };
      // Whether it is empty, not how big: counting a million-sector index would cost every start a scan.
      const empty = store.collection("sector-index").page("", { limit: 1 }).length === 0;
      log.info(`sector locations: this node's own SectorIndexer (--proxy-sector-indexer-off)`);
      if (empty)
        log.warn("this node's own sector index is empty: every sector to prove will be reported as not in the index");
    } else {
      const remoteLocator = new RemoteSectorLocator(opts.source, { headers });
      onStop(() => remoteLocator.close());
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

    registry
      .implement(Venus.Version, () => VERSION_STRING)
      .implement(Venus.SectorIndexerFind, (type, sid) => locator.find(type, sid))
      .implement(Damocles.ChainHead, () => chain.chainHeadInfo());

    return {
      chain,
      locator,
      storePaths: (name: string) => stores.pathOf(name),
      serving(url, proving) {
        onStop(
          chain.onHead((epoch) => {
            metrics.chainHead.set(epoch);
            proving.onEpoch(epoch);
          }),
        );
        const roles = [flags.poster && "WindowPoSt (--poster)", flags.miner && "blocks (--miner)"]
          .filter(Boolean)
          .join(" and ");
        log.info(
          `${VERSION_STRING} proxy node of ${opts.source} listening on ${url} (rpc ${url}/rpc/v0), home ${opts.home}, ` +
            `${config.Miners.length} miner(s), proving ${roles || "nothing"}`,
        );
        // Workers dialing this node by mistake get MethodNotFound for every sealing call; say where they belong.
        log.info(
          `this proxy node does not seal: no Venus sealing API here (workers get MethodNotFound); point sealing workers at ${opts.source}`,
        );
        if (!flags.poster && !flags.miner)
          log.warn("neither --poster nor --miner: this proxy node proves nothing and only serves Damocles.Proving*");
      },
    };
  });
  return { ...node, chain: role.chain };
}

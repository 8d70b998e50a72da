import { createToken } from "../core/auth/index.ts";
import { LOTUS_RPC_PATH } from "../core/chain/lotus-api.ts";
import { childLogger } from "../core/log/index.ts";
import { mountRpc } from "../core/rpc/index.ts";
import type { Chain } from "../core/sector/chain.ts";
import { sectorName } from "../core/sector/index.ts";
import { VERSION_STRING } from "../core/version.ts";
import {
  acceptAllPoStVerifier,
  acceptAllUpdateVerifier,
  acceptAllVerifier,
  type Beacon,
  type CommDCalculator,
  DevnetChain,
  type DevnetConfig,
  type DevnetRpc,
  devnetRpc,
  devnetSettings,
  loadPoStVerifier,
  loadProofsVerifier,
  loadUpdateVerifier,
  type PresealManifest,
  presealSectors,
  proofsCommDCalculator,
  readPresealManifest,
  registerDevnetMessageApi,
  type SealVerifier,
  type UpdateVerifier,
} from "../devnet/index.ts";
import { chainNodeConfigured, connectChainNode } from "./chain/node.ts";
import { CommitManager } from "./commit/manager.ts";
import type { CommitMiner } from "./commit/policy.ts";
import { EmbeddedMarket } from "./market/embedded.ts";
import type { PieceHasher } from "./market/import.ts";
import { registerPoStChainApi } from "./proxy/chain-api.ts";
import { registerRebuildApi } from "./rebuild/index.ts";
import { RebuildService } from "./rebuild/service.ts";
import { registerSealerApi, type SealerServices } from "./sealer-api.ts";
import { type AllocatableMiner, SectorAllocator } from "./sectors/allocator.ts";
import { SectorIndexer } from "./sectors/indexer.ts";
import { SectorNumbers } from "./sectors/numbers.ts";
import { SectorStates } from "./sectors/states.ts";
import { type NodeOptions, type RunningNode, startNode } from "./shell.ts";
import { registerSnapApi, SnapCandidates, type SnapMiner, SnapUp } from "./snap/index.ts";
import { PersistStores } from "./stores/persist.ts";
import { registerUnsealApi } from "./unseal/index.ts";
import { WorkerRegistry } from "./workers/registry.ts";

const log = childLogger("manager");

/** The chain the manager runs on: the devnet it hosts, or the Lotus-API client of a node. */
type ManagerChain = Chain & { onEpoch(listener: (epoch: number) => void): unknown; start(): void; close(): void };

export interface ManagerOptions extends NodeOptions {
  /** Overrides config.Common.Devnet (tests). */
  devnet?: DevnetConfig;
  /** Overrides the verifier chosen from the config (tests). */
  verifier?: SealVerifier;
  /** Overrides the replica update (SnapDeals) verifier chosen from the config (tests). */
  updateVerifier?: UpdateVerifier;
  /** Overrides the devnet's randomness beacon (tests holding a sector sealed with known randomness). */
  beacon?: Beacon;
  /** Overrides compute_comm_d of the proofs library for deal PreCommits (tests). */
  commD?: CommDCalculator;
  /** Overrides generate_piece_commitment of the proofs library for imports (tests). */
  pieceHasher?: PieceHasher;
}

export interface RunningManager extends RunningNode {
  services: SealerServices;
  market: EmbeddedMarket;
}

/**
 * Builds and starts the manager: store, devnet chain, services, the Venus API, /healthcheck and /metrics
 * on one Bun.serve (the shell in shell.ts). Everything a restart needs is in <home>/damocles.db.
 */
export async function startManager(opts: ManagerOptions): Promise<RunningManager> {
  const { config } = opts;
  const { node, role } = await startNode(opts, async ({ metrics, registry, openStore, onStop }) => {
    const store = openStore();
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
    const updateVerifier =
      opts.updateVerifier ??
      (devnet.InsecureSkipProofVerification ? acceptAllUpdateVerifier : await loadUpdateVerifier());
    const commD = opts.commD ?? proofsCommDCalculator();
    const external = chainNodeConfigured(config);
    let manifests: PresealManifest[] = [];
    let hosted: DevnetChain | undefined;
    let hostedRpc: DevnetRpc | undefined;
    let chain: ManagerChain;
    if (external) {
      chain = await connectChainNode({ home: opts.home, config, store });
      onStop(() => chain.close());
    } else {
      const sizeOf = new Map(devnet.Miners.map((m) => [m.Actor, m.SectorSize]));
      const workerOf = new Map(devnet.Miners.map((m) => [m.Actor, m.Worker]));
      manifests = devnet.Miners.filter((m) => m.PreSealed).map((m) => readPresealManifest(m.PreSealed!, m.Actor));
      hosted = new DevnetChain({
        store,
        settings: devnet,
        verifier,
        postVerifier,
        updateVerifier,
        commD,
        preseal: manifests.flatMap(presealSectors),
        miners: config.Miners.map((m) => ({
          actor: m.Actor,
          sectorSize: sizeOf.get(m.Actor) ?? 2048,
          worker: workerOf.get(m.Actor),
        })),
        now: opts.now,
        beacon: opts.beacon,
      });
      // The manager reaches its own devnet only as it reaches any node: the Lotus-API client, here through
      // an in-process transport, with the devnet's epoch events standing in for ChainNotify.
      const devnetNode = hosted;
      hostedRpc = devnetRpc(devnetNode, {
        store,
        workerOf: (actor) => devnetNode.minerWorker(actor),
        auth: opts.auth.authenticator,
        registrars: [registerDevnetMessageApi],
      });
      chain = await connectChainNode({
        home: opts.home,
        config,
        store,
        inProcess: {
          url: `http://127.0.0.1${LOTUS_RPC_PATH}`,
          token: await createToken(opts.auth.secret, { name: "manager-devnet-client", perm: "admin" }),
          fetch: hostedRpc.fetch,
          heads: (listener) => devnetNode.onEpoch(listener),
        },
      });
      onStop(() => chain.close());
    }

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
      snap: m.SnapUp.Enabled
        ? {
            threshold: m.SnapUp.Batch.Threshold,
            maxWaitMs: m.SnapUp.Batch.MaxWait,
            checkIntervalMs: m.SnapUp.Batch.CheckInterval,
          }
        : undefined,
    }));
    const snapMiners: SnapMiner[] = config.Miners.filter((m) => chainMiners.has(m.Actor)).map((m) => ({
      actor: m.Actor,
      sectorSize: chainMiners.get(m.Actor)!.sectorSize,
      sealProofType: chainMiners.get(m.Actor)!.sealProofType,
      enabled: m.SnapUp.Enabled,
      cleanupCCData: m.SnapUp.CleanupCCData,
      messageConfidence: m.SnapUp.MessageConfidence,
      releaseConfidence: m.SnapUp.ReleaseConfidence,
      retry: {
        maxAttempts: m.SnapUp.Retry.MaxAttempts,
        pollIntervalMs: m.SnapUp.Retry.PollInterval,
        apiFailureWaitMs: m.SnapUp.Retry.APIFailureWait,
        localFailureWaitMs: m.SnapUp.Retry.LocalFailureWait,
      },
      sealingEpochs: m.Sealing.SealingEpochDuration,
    }));

    const states = new SectorStates(store);
    const numbers = new SectorNumbers(store);
    const market = new EmbeddedMarket({
      home: opts.home,
      config,
      store,
      chain,
      states,
      chainMiners,
      commD,
      hasher: opts.pieceHasher,
      now: opts.now,
    });
    const commit = new CommitManager({
      store,
      states,
      chain,
      verifier,
      deals: market.deals,
      miners: () => commitMiners,
      metrics,
      now: opts.now,
    });
    const indexer = new SectorIndexer(store);
    const stores = new PersistStores(store, config.Common.PersistStores);
    const snap = new SnapUp({
      store,
      states,
      chain,
      commit,
      market: market.deals,
      indexer,
      stores,
      candidates: new SnapCandidates(store),
      verifier: updateVerifier,
      commD,
      miners: () => snapMiners,
      now: opts.now,
    });
    const rebuild = new RebuildService({
      store,
      states,
      chain,
      actors: () => allocatable.map((m) => m.actor),
      now: opts.now,
    });
    const services: SealerServices = {
      devnet: hosted,
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
      stores,
      indexer,
      workers: new WorkerRegistry(store, opts.now),
      chain,
      market: market.deals,
      rebuild,
      metrics,
      snap,
    };

    // Pre-sealed sectors live in a persist store from the start: index them there (idempotent).
    for (const m of manifests) {
      for (const sct of m.Sectors) {
        if (await chain.sectorInfo(m.Actor, sct.Number))
          services.indexer.update(
            "normal",
            { Miner: m.Actor, Number: sct.Number },
            { sealed: m.Store, cache: m.Store },
          );
      }
    }

    registerSealerApi(registry, services);
    registerSnapApi(registry, snap);
    registerPoStChainApi(registry, chain);
    registerUnsealApi(registry, { ...services, store, actors: () => allocatable.map((m) => m.actor) });
    registerRebuildApi(registry, rebuild);
    market.register(registry);
    metrics.onlineSectors.collect = (g) => g.set(states.countOnline());
    metrics.threads.collect = () =>
      metrics.collectWorkers(services.workers.list(), Math.floor((opts.now ?? Date.now)() / 1000));

    return {
      services,
      market,
      chain,
      locator: { find: async (type, sid) => services.indexer.find(type, sid) },
      storePaths: (name) => services.stores.pathOf(name),
      mount: (app, auth) => {
        market.mount(app, auth);
        // The hosted devnet's node API on the manager's port, for other clients of this chain.
        if (hostedRpc) mountRpc(app, hostedRpc.registry, auth, LOTUS_RPC_PATH);
      },
      async start(proving) {
        chain.onEpoch((epoch) => {
          metrics.chainHead.set(epoch);
          commit.observeLandings().catch((err) => log.warn("observing message landings failed:", err));
          market.onEpoch();
          void snap.committer.tick();
          proving.onEpoch(epoch);
        });
        await hosted?.tick();
        await market.start();
        // The hosted devnet's own clock, then the client following its heads.
        hosted?.start();
        if (hosted) onStop(() => hosted.close());
        chain.start();
        await commit.start();
        onStop(() => commit.stop());
        snap.start();
        onStop(() => snap.stop());
        indexSectorPieces(states, onStop);
      },
      serving(url) {
        log.info(
          `${VERSION_STRING} listening on ${url} (rpc ${url}/rpc/v0), home ${opts.home}, ${config.Miners.length} miner(s)`,
        );
      },
    };
  });
  return { ...node, services: role.services, market: role.market };
}

/**
 * A store written before the piece index existed is indexed once, in the background (FindSectorWithPiece
 * reads every state until it is done); stopping the daemon stops it between pages.
 */
function indexSectorPieces(states: SectorStates, onStop: (step: () => void) => void): void {
  const stop = new AbortController();
  onStop(() => stop.abort(new Error("the manager is stopping")));
  const started = performance.now();
  states
    .indexPieces(stop.signal)
    .then((n) => {
      if (n > 0) log.info(`indexed the pieces of ${n} sector(s) in ${Math.round(performance.now() - started)} ms`);
    })
    .catch((err) => {
      if (!stop.signal.aborted) log.warn(`indexing the sectors' pieces failed (lookups read every state): ${err}`);
    });
}

import { join } from "node:path";
import type { ManagerConfig } from "../core/config/index.ts";
import { EXT_PROVER_CONFIG_FILE } from "../core/config/manager-home.ts";
import { childLogger } from "../core/log/index.ts";
import type { MetricsRegistry } from "../core/metrics/index.ts";
import type { RpcRegistry } from "../core/rpc/index.ts";
import type { PoStChain } from "../core/sector/chain.ts";
import type { KVStore } from "../core/store/index.ts";
import { registerWinningPoStMetrics } from "./miner/metrics.ts";
import { BlockMiner } from "./miner/miner.ts";
import { registerProvingApi } from "./poster/api.ts";
import { registerWindowPoStMetrics } from "./poster/metrics.ts";
import { PoSter, type PoSterMiner } from "./poster/poster.ts";
import { PoSterRetention } from "./poster/retention.ts";
import { createExtProver } from "./prover/ext-prover.ts";
import { LocalProver } from "./prover/local.ts";
import type { WindowPoStProver, WinningPoStProver } from "./prover.ts";
import type { SectorLocator, StorePaths } from "./stores/locate.ts";
import { createWorkerProverModule, type WorkerProverModule } from "./wdpost/index.ts";

const log = childLogger("poster");

export interface ProvingFlags {
  /** --poster: prove WindowPoSt. */
  poster?: boolean;
  /** --miner: mine blocks (WinningPoSt) for miners with Proof.Enabled. */
  miner?: boolean;
  /** --warmup (default true with --miner). */
  warmup?: boolean;
  /** --worker-prover: WindowPoSt jobs go to workers with plan = "wdpost". */
  workerProver?: boolean;
  /** --ext-prover: PoSt in processor children from ext-prover.cfg. */
  extProver?: boolean;
}

export interface ProvingModuleOptions {
  flags: ProvingFlags;
  config: ManagerConfig;
  /** Directory holding ext-prover.cfg (the home or --conf-dir). */
  confDir: string;
  chain: PoStChain;
  store: KVStore;
  registry: RpcRegistry;
  metrics: MetricsRegistry;
  locator: SectorLocator;
  storePaths: StorePaths;
  now?: () => number;
}

export interface ProvingModule {
  poster: PoSter;
  workerProver?: WorkerProverModule;
  /** Feed every new head (the devnet's epoch event, or a proxy's head poll). */
  onEpoch(epoch: number): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The PoSt side of a manager, composed from the parts below it: picks the prover (prover/local.ts,
 * wdpost/ for --worker-prover or prover/ext-prover.ts for --ext-prover), builds the WindowPoSt scheduler
 * (poster/) and the block miner (miner/), and serves Damocles.Proving* (always: `proving check` and
 * `proving faults` are useful on any manager).
 */
export async function createProvingModule(opts: ProvingModuleOptions): Promise<ProvingModule> {
  const { flags, config } = opts;
  const windowMetrics = registerWindowPoStMetrics(opts.metrics);
  const winningMetrics = registerWinningPoStMetrics(opts.metrics);
  const local = new LocalProver();
  let windowProver: WindowPoStProver = local;
  let winningProver: WinningPoStProver = local;
  let closeExt: (() => Promise<void>) | undefined;
  let workerProver: WorkerProverModule | undefined;

  if (flags.workerProver) {
    workerProver = createWorkerProverModule({
      store: opts.store,
      config: config.Common.Proving.WorkerProver,
      registry: opts.registry,
      now: opts.now,
    });
    workerProver.registerMetrics(opts.metrics);
    windowProver = workerProver.prover;
  }
  if (flags.extProver) {
    const ext = await createExtProver({ configPath: join(opts.confDir, EXT_PROVER_CONFIG_FILE), fallback: local });
    if (!flags.workerProver) windowProver = ext.window;
    winningProver = ext.winning;
    closeExt = ext.close;
  }

  const proving = config.Common.Proving;
  const miners: PoSterMiner[] = config.Miners.map((m) => ({
    actor: m.Actor,
    enabled: m.PoSt.Enabled,
    strictCheck: m.PoSt.StrictCheck,
    challengeConfidence: m.PoSt.ChallengeConfidence,
    submitConfidence: m.PoSt.SubmitConfidence,
    maxRecoverSectorLimit: m.PoSt.MaxRecoverSectorLimit,
    maxPartitionsPerPoStMessage: m.PoSt.MaxPartitionsPerPoStMessage,
  }));
  const proofs = await import("../core/proofs/index.ts");
  const poster = new PoSter({
    chain: opts.chain,
    store: opts.store,
    locator: opts.locator,
    storePaths: opts.storePaths,
    prover: windowProver,
    miners,
    limits: {
      parallelCheckLimit: proving.ParallelCheckLimit,
      singleCheckTimeoutMs: proving.SingleCheckTimeout,
      partitionCheckTimeoutMs: proving.PartitionCheckTimeout,
    },
    metrics: windowMetrics,
    vanillaCheck: async (actor, postProof, randomness, replica) => {
      const challenges = await proofs.generateFallbackSectorChallenges({
        postProof,
        randomness,
        proverId: actor,
        sectorIds: [replica.sectorId],
      });
      await proofs.generateSingleVanillaProof({
        postProof,
        replica: {
          sectorId: replica.sectorId,
          commR: replica.commR,
          cacheDir: replica.cacheDir,
          sealedPath: replica.sealedPath,
        },
        challenges: challenges.get(replica.sectorId) ?? [],
      });
    },
    now: opts.now,
  });
  const retention = new PoSterRetention({
    store: opts.store,
    actors: miners.map((m) => m.actor),
    lifetimeMs: proving.RecordLifetime,
    policy: opts.chain.policy(),
  });
  registerProvingApi(opts.registry, {
    chain: opts.chain,
    poster,
    running: flags.poster === true,
    strictCheck: (actor) => miners.find((m) => m.actor === actor)?.strictCheck ?? true,
  });

  const mining = config.Miners.filter((m) => m.Proof.Enabled).map((m) => m.Actor);
  if (flags.miner && mining.length === 0)
    log.warn("--miner: no [[Miners]] has Proof.Enabled = true; no blocks will be mined");
  const miner = flags.miner
    ? new BlockMiner({
        chain: opts.chain,
        locator: opts.locator,
        storePaths: opts.storePaths,
        prover: winningProver,
        challenge: (postProof, randomness, actor, sectorSetLen) =>
          proofs.generateWinningPostSectorChallenge({ postProof, randomness, proverId: actor, sectorSetLen }),
        actors: mining,
        metrics: winningMetrics,
      })
    : undefined;

  return {
    poster,
    workerProver,
    onEpoch(epoch) {
      if (flags.poster) poster.onEpoch(epoch);
      retention.onEpoch(epoch);
      miner?.onEpoch(epoch);
    },
    async start() {
      workerProver?.start();
      if (flags.poster) {
        const off = miners.filter((m) => !m.enabled).map((m) => m.actor);
        log.info(
          `WindowPoSt for ${
            miners
              .filter((m) => m.enabled)
              .map((m) => `f0${m.actor}`)
              .join(", ") || "no miner"
          } via the ${windowProver.name} prover${off.length ? ` (PoSt.Enabled = false: ${off.join(", ")})` : ""}`,
        );
      }
      if (miner) {
        log.info(
          `mining blocks (WinningPoSt via the ${winningProver.name} prover) for ${mining.map((a) => `f0${a}`).join(", ") || "no miner"}`,
        );
        if (flags.warmup !== false) void miner.warmup();
      }
    },
    async stop() {
      miner?.stop();
      await poster.stop();
      workerProver?.stop();
      await closeExt?.();
    },
  };
}

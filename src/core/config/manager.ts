import * as v from "valibot";
import {
  bool,
  duration,
  filAmount,
  nonEmptyStr,
  nonNegativeInt,
  positiveInt,
  sectorSize,
  str,
  stringList,
  stringMap,
} from "./fields.ts";

/**
 * `sector-manager.cfg` (reference §6.1–6.2, seed 002): Go-style PascalCase keys, Go durations and FIL
 * amounts, defaults as the original documents them. `[Common.Devnet]` is ours: the embedded test chain.
 */

const MessagePolicy = {
  Sender: v.optional(str("a sender address")),
  Senders: v.optional(stringList("a list of sender addresses")),
  SendFund: v.optional(bool(), true),
  GasOverEstimation: v.optional(v.number("expected a number such as 1.2"), 1.2),
  GasOverPremium: v.optional(v.number("expected a number such as 0"), 0),
  GasFeeCap: v.optional(filAmount(), "5 nanoFIL"),
  MaxFeeCap: v.optional(filAmount()),
};

const batch = (threshold: number) =>
  v.optional(
    v.object({
      Enabled: v.optional(bool()),
      Threshold: v.optional(positiveInt("a positive sector count"), threshold),
      MaxWait: v.optional(duration(), "1h0m0s"),
      CheckInterval: v.optional(duration(), "1m0s"),
      GasOverEstimation: v.optional(v.number("expected a number such as 1.2"), 1.2),
      GasOverPremium: v.optional(v.number("expected a number such as 0"), 0),
      GasFeeCap: v.optional(filAmount(), "5 nanoFIL"),
      MaxFeeCap: v.optional(filAmount()),
    }),
    {},
  );

const commitment = (threshold: number) => v.optional(v.object({ ...MessagePolicy, Batch: batch(threshold) }), {});

const StoreEntry = {
  Name: v.optional(nonEmptyStr()),
  Path: nonEmptyStr("a directory path"),
  Meta: v.optional(stringMap(), {}),
  ReadOnly: v.optional(bool(), false),
  PluginName: v.optional(str()),
  Plugin: v.optional(str()),
};

export const PersistStoreSchema = v.object({
  ...StoreEntry,
  Strict: v.optional(bool(), false),
  Weight: v.optional(nonNegativeInt("a store weight"), 1),
  AllowMiners: v.optional(v.array(nonNegativeInt("a miner actor id")), []),
  DenyMiners: v.optional(v.array(nonNegativeInt("a miner actor id")), []),
});
export type PersistStoreConfig = v.InferOutput<typeof PersistStoreSchema>;

const DevnetMinerSchema = v.object({
  Actor: nonNegativeInt("a miner actor id"),
  SectorSize: v.optional(sectorSize(), "2KiB"),
  /** A pre-seal manifest (JSON, see docs/configuration.md): sectors active from genesis. */
  PreSealed: v.optional(nonEmptyStr("a path to a pre-seal manifest")),
  /**
   * The miner's worker (= owner) key address, "t1…"/"f1…"/"t3…". Without one the devnet derives a
   * well-known test key from its Seed (like lotus-seed's) and signs for that worker itself.
   */
  Worker: v.optional(nonEmptyStr("a key address like t1…")),
});

/** The embedded devnet: small numbers so a 2KiB sector seals and proves within minutes. */
export const DevnetSchema = v.object({
  /** Seed of the chain's randomness; two managers of one devnet must share it. */
  Seed: v.optional(nonEmptyStr(), "damocles-devnet"),
  BlockTime: v.optional(duration(), "1s"),
  PreCommitChallengeDelay: v.optional(positiveInt("a number of epochs"), 10),
  SealRandomnessLookback: v.optional(nonNegativeInt("a number of epochs"), 5),
  /** How long a ticket stays usable for PreCommit (epochs). */
  MaxTicketAge: v.optional(positiveInt("a number of epochs"), 900),
  /** Epochs a seed stays valid for ProveCommit after it becomes available. */
  MaxProveCommitDuration: v.optional(positiveInt("a number of epochs"), 900),
  WPoStPeriodDeadlines: v.optional(positiveInt("a number of deadlines"), 4),
  /** With 1 s blocks: 30 s deadlines, a 2-minute proving period. */
  WPoStChallengeWindow: v.optional(positiveInt("a number of epochs"), 30),
  WPoStChallengeLookback: v.optional(nonNegativeInt("a number of epochs"), 10),
  /** On average one block every ElectionPeriod epochs across all miners (WinningPoSt elections). */
  ElectionPeriod: v.optional(positiveInt("a number of epochs"), 30),
  /** Epochs a pushed message waits before it is packed, then lands. */
  MessagePackDelay: v.optional(nonNegativeInt("a number of epochs"), 1),
  MessageLandDelay: v.optional(nonNegativeInt("a number of epochs"), 1),
  /** Epochs after the seed epoch before WaitSeed hands the seed out. */
  InteractivePoRepConfidence: v.optional(nonNegativeInt("a number of epochs"), 1),
  /**
   * History older than this is deleted: PoSt records, blocks, executed messages ("0s" keeps it all). Never
   * less than two proving periods and finality (900 epochs).
   */
  HistoryLifetime: v.optional(duration(), "168h0m0s"),
  /**
   * Accept every proof without verifying it: only for load tests with simulated workers (the daemon warns
   * at start). Never on a devnet meant to show that sealing works.
   */
  InsecureSkipProofVerification: v.optional(bool(), false),
  /** What each miner's worker account holds at genesis (attoFIL once parsed). */
  GenesisBalance: v.optional(filAmount(), "1000000 FIL"),
  Miners: v.optional(v.array(DevnetMinerSchema, "expected [[Common.Devnet.Miners]] blocks"), []),
});
export type DevnetConfig = v.InferOutput<typeof DevnetSchema>;

export const ManagerFileSchema = v.object({
  Common: v.optional(
    v.object({
      API: v.optional(
        v.object({
          Gateway: v.optional(stringList("a list of gateway addresses")),
          Token: v.optional(str()),
          Chain: v.optional(str()),
          Messager: v.optional(str()),
          Market: v.optional(str()),
          ChainEventInterval: v.optional(duration(), "1m0s"),
          /** Ours: outbox records of messages executed longer ago than this are deleted ("0s" keeps them all). */
          MessageLifetime: v.optional(duration(), "168h0m0s"),
        }),
        {},
      ),
      Plugins: v.optional(v.object({ Dir: v.optional(str(), "") }), {}),
      PieceStores: v.optional(v.array(v.object(StoreEntry), "expected [[Common.PieceStores]] blocks"), []),
      PersistStores: v.optional(v.array(PersistStoreSchema, "expected [[Common.PersistStores]] blocks"), []),
      ScanPersistStores: v.optional(stringList("a list of glob patterns"), []),
      DB: v.optional(
        v.object({
          Driver: v.optional(
            v.picklist(["sqlite", "badger", "mongo", "plugin"], 'expected "sqlite" (or the original\'s "badger")'),
            "sqlite",
          ),
          Badger: v.optional(v.object({ BaseDir: v.optional(str()) })),
          Mongo: v.optional(v.object({ DSN: v.optional(str()), DatabaseName: v.optional(str()) })),
          Plugin: v.optional(v.object({ PluginName: v.optional(str()), Meta: v.optional(stringMap()) })),
        }),
        {},
      ),
      MongoKVStore: v.optional(
        v.object({ Enable: v.optional(bool(), false), DSN: v.optional(str()), DatabaseName: v.optional(str()) }),
      ),
      Proving: v.optional(
        v.object({
          ParallelCheckLimit: v.optional(positiveInt(), 128),
          SingleCheckTimeout: v.optional(duration(), "10m0s"),
          PartitionCheckTimeout: v.optional(duration(), "20m0s"),
          /** Ours: the poster's per-deadline records older than this are deleted ("0s" keeps them all). */
          RecordLifetime: v.optional(duration(), "168h0m0s"),
          WorkerProver: v.optional(
            v.object({
              JobMaxTry: v.optional(positiveInt("a positive number of tries"), 2),
              HeartbeatTimeout: v.optional(duration(), "15s"),
              JobLifetime: v.optional(duration(), "25h0m0s"),
            }),
            {},
          ),
        }),
        {},
      ),
      Devnet: v.optional(DevnetSchema, {}),
    }),
    {},
  ),
  Miners: v.optional(
    v.array(
      v.object({
        Actor: nonNegativeInt("a miner actor id"),
        Sector: v.optional(
          v.object({
            InitNumber: v.optional(nonNegativeInt("a sector number"), 0),
            MinNumber: v.optional(nonNegativeInt("a sector number")),
            MaxNumber: v.optional(nonNegativeInt("a sector number")),
            Enabled: v.optional(bool(), true),
            EnableDeals: v.optional(bool(), false),
            LifetimeDays: v.optional(positiveInt("a number of days"), 540),
            Verbose: v.optional(bool(), false),
          }),
          {},
        ),
        SnapUp: v.optional(
          v.object({
            Enabled: v.optional(bool(), false),
            ...MessagePolicy,
            CleanupCCData: v.optional(bool(), true),
            MessageConfidence: v.optional(nonNegativeInt("a number of epochs"), 15),
            ReleaseConfidence: v.optional(nonNegativeInt("a number of epochs"), 30),
            Retry: v.optional(
              v.object({
                MaxAttempts: v.optional(positiveInt()),
                PollInterval: v.optional(duration(), "3m0s"),
                APIFailureWait: v.optional(duration(), "3m0s"),
                LocalFailureWait: v.optional(duration(), "3m0s"),
              }),
              {},
            ),
            /**
             * Ours: ProveReplicaUpdates are batched like PreCommits. The original sends one message per
             * sector, which Threshold 1 (the default) keeps.
             */
            Batch: batch(1),
          }),
          {},
        ),
        Commitment: v.optional(
          v.object({
            Confidence: v.optional(nonNegativeInt("a number of epochs"), 10),
            Pre: commitment(2),
            Prove: commitment(4),
            Terminate: commitment(2),
          }),
          {},
        ),
        PoSt: v.optional(
          v.object({
            ...MessagePolicy,
            Enabled: v.optional(bool(), true),
            StrictCheck: v.optional(bool(), true),
            Parallel: v.optional(bool(), false),
            Confidence: v.optional(nonNegativeInt("a number of epochs"), 10),
            SubmitConfidence: v.optional(nonNegativeInt("a number of epochs"), 0),
            ChallengeConfidence: v.optional(nonNegativeInt("a number of epochs"), 0),
            MaxRecoverSectorLimit: v.optional(nonNegativeInt(), 0),
            MaxPartitionsPerPoStMessage: v.optional(nonNegativeInt(), 0),
            MaxPartitionsPerRecoveryMessage: v.optional(nonNegativeInt(), 0),
          }),
          {},
        ),
        Proof: v.optional(v.object({ Enabled: v.optional(bool(), false) }), {}),
        Sealing: v.optional(
          v.object({
            SealingEpochDuration: v.optional(nonNegativeInt("a number of epochs"), 0),
            UseSyntheticPoRep: v.optional(bool(), false),
            RequireActivationSuccess: v.optional(bool(), false),
            RequireActivationSuccessUpdate: v.optional(bool(), false),
            RequireNotificationSuccess: v.optional(bool(), false),
            RequireNotificationSuccessUpdate: v.optional(bool(), false),
            SealingSectorDeadlineDelayNi: v.optional(nonNegativeInt("a number of epochs"), 6),
          }),
          {},
        ),
      }),
      "expected [[Miners]] blocks",
    ),
    [],
  ),
});
export type ManagerConfig = v.InferOutput<typeof ManagerFileSchema>;
export type MinerConfig = ManagerConfig["Miners"][number];

/** Semantic rules valibot cannot express per field; returned as [keys, message] pairs. */
export function managerCrossChecks(cfg: ManagerConfig): [(string | number)[], string][] {
  const problems: [(string | number)[], string][] = [];
  const actors = new Map<number, number>();
  cfg.Miners.forEach((m, i) => {
    const first = actors.get(m.Actor);
    if (first !== undefined)
      problems.push([["Miners", i, "Actor"], `actor ${m.Actor} is already configured in Miners[${first}]`]);
    else actors.set(m.Actor, i);
    const { InitNumber, MinNumber, MaxNumber } = m.Sector;
    if (MaxNumber !== undefined && MaxNumber <= Math.max(InitNumber, MinNumber ?? 0))
      problems.push([
        ["Miners", i, "Sector", "MaxNumber"],
        `MaxNumber ${MaxNumber} leaves no sector number to allocate above InitNumber/MinNumber`,
      ]);
  });
  const names = new Map<string, number>();
  cfg.Common.PersistStores.forEach((s, i) => {
    const name = s.Name ?? s.Path;
    const first = names.get(name);
    if (first !== undefined)
      problems.push([
        ["Common", "PersistStores", i, "Name"],
        `store name "${name}" is already used by PersistStores[${first}]; names must be unique`,
      ]);
    else names.set(name, i);
  });
  return problems;
}

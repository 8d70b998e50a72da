import { join } from "node:path";

/**
 * Commented default files written by `manager init`. Every key appears with its default, commented out,
 * so the file documents itself; the uncommented part is a ready-to-seal devnet miner.
 */

export interface ManagerTemplateOptions {
  home: string;
  actor: number;
  sectorSize: string;
}

export function managerConfigTemplate(o: ManagerTemplateOptions): string {
  return `# sector-manager.cfg — damocles manager configuration.
# Keys, defaults and meanings follow damocles' sector-manager.cfg; durations like "1m0s", amounts like "5 nanoFIL".
# Check this file with: damocles util config check ${join(o.home, "sector-manager.cfg")}

[Common]
#[Common.API]
#Gateway = ["/ip4/{host}/tcp/{port}"]   # venus gateway(s); not needed on the embedded devnet
#Token = ""
#Chain = ""   # a Filecoin node's Lotus API, "<token>:/ip4/<host>/tcp/<port>/http"; empty: the embedded devnet
#Messager = ""
#Market = ""
#ChainEventInterval = "1m0s"
#MessageLifetime = "168h0m0s"   # outbox records of messages executed before this go ("0s": keep all)

#[Common.Plugins]
#Dir = ""

# Piece files of deals: 'damocles util market import' stores them here, GET /piecestore/<piece-cid> serves
# them to workers holding a token of this manager (read permission or more). More stores may follow; the first writable
# one takes new pieces.
[[Common.PieceStores]]
Name = "pieces"
Path = "${join(o.home, "pieces")}"
#ReadOnly = false

# Long-term storage for sealed sectors. Workers name the same store in their [[attached]] blocks.
[[Common.PersistStores]]
Name = "persist-1"
Path = "${join(o.home, "persist-1")}"
#Strict = false
#ReadOnly = false
#Weight = 1
#AllowMiners = []
#DenyMiners = []

#ScanPersistStores = []

#[Common.DB]
#Driver = "sqlite"   # state lives in <home>/damocles.db (bun:sqlite, WAL)

#[Common.Proving]
#ParallelCheckLimit = 128
#SingleCheckTimeout = "10m0s"
#PartitionCheckTimeout = "20m0s"
#RecordLifetime = "168h0m0s"    # the poster's per-deadline records older than this go ("0s": keep all)

#[Common.Proving.WorkerProver]
#JobMaxTry = 2
#HeartbeatTimeout = "15s"
#JobLifetime = "25h0m0s"

# The embedded devnet: a local verifying test chain (the default chain of this manager).
[Common.Devnet]
#Seed = "damocles-devnet"        # share it between managers of one devnet
#BlockTime = "1s"
#PreCommitChallengeDelay = 10    # epochs between PreCommit landing and the seed
#SealRandomnessLookback = 5
#MaxTicketAge = 900
#MaxProveCommitDuration = 900
#WPoStPeriodDeadlines = 4
#WPoStChallengeWindow = 30      # epochs per proving deadline (4 x 30 x 1s = a 2-minute proving period)
#WPoStChallengeLookback = 10    # the challenge epoch is this many epochs before a deadline opens
#ElectionPeriod = 30            # WinningPoSt: about one block every 30 epochs across all miners
#MessagePackDelay = 1
#MessageLandDelay = 1
#HistoryLifetime = "168h0m0s"   # PoSt records, blocks and executed messages older than this go

[[Common.Devnet.Miners]]
Actor = ${o.actor}
SectorSize = "${o.sectorSize}"
#PreSealed = "/path/to/preseal-t0${o.actor}.json"  # sectors sealed before genesis (applied when the chain is created)

[[Miners]]
Actor = ${o.actor}

[Miners.Sector]
#InitNumber = 0
#MinNumber = 0
#MaxNumber = 1000000
#Enabled = true
#EnableDeals = false
#LifetimeDays = 540
#Verbose = false

# SnapDeals: workers with plan = "snapup" fill this miner's active CC sectors with deals (candidates are
# marked with 'damocles util sealer snap fetch <miner>'); the manager sends ProveReplicaUpdates.
#[Miners.SnapUp]
#Enabled = false
#Sender = ""
#SendFund = true
#CleanupCCData = true       # remove the old CC sealed file + cache once the update is final
#MessageConfidence = 15     # epochs after inclusion before the update counts as landed
#ReleaseConfidence = 30     # epochs after landing before the sector is finalized (and CC data removed)
#[Miners.SnapUp.Retry]
#MaxAttempts = 10          # unset: retry for ever
#PollInterval = "3m0s"     # between checks of the ProveReplicaUpdates message
#APIFailureWait = "3m0s"   # after the chain could not be asked
#LocalFailureWait = "3m0s" # after a local (store, file) failure
#[Miners.SnapUp.Batch]     # ours: updates are batched like PreCommits
#Threshold = 1
#MaxWait = "1h0m0s"
#CheckInterval = "1m0s"

[Miners.Commitment]
#Confidence = 10

[Miners.Commitment.Pre]
#Sender = ""
#SendFund = true
#GasOverEstimation = 1.2
#GasOverPremium = 0
#GasFeeCap = "5 nanoFIL"

[Miners.Commitment.Pre.Batch]
# Small batches so a devnet demo does not wait: flush at 1 sector or after 30s.
Threshold = 1
MaxWait = "30s"
CheckInterval = "5s"

[Miners.Commitment.Prove]
#Sender = ""

[Miners.Commitment.Prove.Batch]
Threshold = 1
MaxWait = "30s"
CheckInterval = "5s"

#[Miners.Commitment.Terminate.Batch]
#Threshold = 2

[Miners.PoSt]
#Sender = ""
#Enabled = true
#StrictCheck = true
#Parallel = false
#Confidence = 10
#SubmitConfidence = 0
#ChallengeConfidence = 0

[Miners.Proof]
#Enabled = false   # WinningPoSt; also needs 'manager run --miner'

#[Miners.Sealing]
#SealingEpochDuration = 0
#UseSyntheticPoRep = false
`;
}

export const EXT_PROVER_TEMPLATE = `# ext-prover.cfg — external PoSt processors, used with 'damocles manager run --ext-prover'.
# Default config:
#[[WdPost]]
#Bin = "/path/to/custom/bin"
#Args = ["args1", "args2", "args3"]
#Concurrent = 1
#Weight = 1
#ReadyTimeoutSecs = 5
#[WdPost.Envs]
#ENV_KEY = "ENV_VAL"
#
#[[WinPost]]
#Bin = "/path/to/custom/bin"
#Args = ["args1", "args2", "args3"]
#Concurrent = 1
#Weight = 1
#ReadyTimeoutSecs = 5
#[WinPost.Envs]
#ENV_KEY = "ENV_VAL"
#
`;

import * as v from "valibot";
import {
  type BlockRecord,
  BlockRecordSchema,
  type FaultRecord,
  FaultRecordSchema,
  type MessageLookup,
  MessageLookupSchema,
  MinerInfoSchema,
  type PoStRecord,
  PoStRecordSchema,
  type ProvingStats,
  ProvingStatsSchema,
} from "../core/sector/api-chain.ts";
import {
  type DeadlineState,
  DeadlineStateSchema,
  type OnChainDeal,
  OnChainDealSchema,
  type OnChainPreCommit,
  OnChainPreCommitSchema,
  type OnChainSector,
  OnChainSectorSchema,
} from "../core/sector/chain.ts";
import type { Collection, KVStore } from "../core/store/index.ts";

const int = v.pipe(v.number(), v.safeInteger());

export const GenesisSchema = v.object({
  seed: v.string(),
  /** The epoch/time pair epochs are counted from; moved when BlockTime changes. */
  anchorEpoch: int,
  anchorTime: int,
  blockTimeMs: v.pipe(int, v.minValue(1)),
  createdAt: int,
});
export type Genesis = v.InferOutput<typeof GenesisSchema>;

export const StoredMinerSchema = v.object({
  ...MinerInfoSchema.entries,
  /** Offset of the miner's proving period within the period length (as the chain assigns it). */
  periodOffset: v.pipe(int, v.minValue(0)),
});
export type StoredMiner = v.InferOutput<typeof StoredMinerSchema>;

const DeadlinesSchema = v.array(DeadlineStateSchema);
/** A counter added after a miner's stats were first written is missing from them: it counts from zero. */
const StoredStatsSchema = v.partial(ProvingStatsSchema);

const EMPTY_STATS: ProvingStats = {
  windowPoStsVerified: 0,
  windowPoStsRejected: 0,
  faultsDeclared: 0,
  faultsDetected: 0,
  recoveries: 0,
  deadlinesMissed: 0,
  blocksMined: 0,
  winningPoStsRejected: 0,
};

/** Epochs in keys are zero-padded so a prefix scan returns them in order. */
function pad(epoch: number): string {
  return String(epoch).padStart(12, "0");
}

/** The key layout of the "chain" collection. mpool/, packed/, final/ and allocated/ keys are empty markers. */
export const K = {
  genesis: "genesis",
  processed: "processed",
  miners: "miner/",
  miner: (a: number) => `miner/${a}`,
  msg: (cid: string) => `msg/${cid}`,
  mpool: (cid: string) => `mpool/${cid}`,
  packed: (cid: string) => `packed/${cid}`,
  allocated: (a: number, n: number) => `allocated/${a}/${n}`,
  precommits: "precommit/",
  precommit: (a: number, n: number) => `precommit/${a}/${n}`,
  sectors: (a: number) => `sector/${a}/`,
  sector: (a: number, n: number) => `sector/${a}/${n}`,
  deadlines: (a: number) => `deadlines/${a}`,
  faults: (a: number) => `fault/${a}/`,
  fault: (a: number, n: number) => `fault/${a}/${n}`,
  posts: (a: number) => `post/${a}/`,
  post: (a: number, open: number) => `post/${a}/${pad(open)}`,
  closedThrough: (a: number) => `post-closed/${a}`,
  stats: (a: number) => `stats/${a}`,
  blocks: (a: number) => `block/${a}/`,
  block: (a: number, epoch: number) => `block/${a}/${pad(epoch)}`,
  /** Messages done with (landed, failed, replaced) by the epoch they were, for retention (history.ts). */
  finals: "final/",
  final: (epoch: number, cid: string) => `final/${pad(epoch)}/${cid}`,
  deals: "deal/",
  deal: (id: number) => `deal/${pad(id)}`,
  dealNext: "deal-next",
  /** Published deals not yet activated or expired (empty markers). */
  openDeals: "deal-open/",
  openDeal: (id: number) => `deal-open/${pad(id)}`,
  dealByProposal: (hash: string) => `deal-proposal/${hash}`,
};

/**
 * The devnet's state in the manager store's "chain" collection: one typed accessor per kind of record.
 * Every read is checked against the record's schema, so a damaged store fails naming the key instead of
 * feeding a wrongly shaped object to the chain's rules.
 */
export class DevnetStore {
  readonly kv: Collection;

  constructor(private readonly store: KVStore) {
    this.kv = store.collection("chain");
  }

  /** Atomic, like KVStore.transaction: fn must be synchronous. */
  transaction<T>(fn: () => T): T {
    return this.store.transaction(fn);
  }

  genesis(): Genesis | undefined {
    return this.kv.getParsed(K.genesis, GenesisSchema);
  }

  putGenesis(g: Genesis): void {
    this.kv.putJSON(K.genesis, g);
  }

  /** The last epoch whose messages and deadlines were processed. */
  processed(): number | undefined {
    return this.kv.getParsed(K.processed, int);
  }

  putProcessed(epoch: number): void {
    this.kv.putJSON(K.processed, epoch);
  }

  miner(actor: number): StoredMiner | undefined {
    return this.kv.getParsed(K.miner(actor), StoredMinerSchema);
  }

  miners(): StoredMiner[] {
    return this.kv.scanParsed(K.miners, StoredMinerSchema).map((e) => e.value);
  }

  putMiner(m: StoredMiner): void {
    this.kv.putJSON(K.miner(m.actor), m);
  }

  message(cid: string): MessageLookup | undefined {
    return this.kv.getParsed(K.msg(cid), MessageLookupSchema);
  }

  putMessage(m: MessageLookup): void {
    this.kv.putJSON(K.msg(m.cid), m);
  }

  precommit(actor: number, number: number): OnChainPreCommit | undefined {
    return this.kv.getParsed(K.precommit(actor, number), OnChainPreCommitSchema);
  }

  /** Every PreCommit on chain, with its key (precommit/<actor>/<number>). */
  precommits(): { key: string; value: OnChainPreCommit }[] {
    return this.kv.scanParsed(K.precommits, OnChainPreCommitSchema);
  }

  putPrecommit(actor: number, pc: OnChainPreCommit): void {
    this.kv.putJSON(K.precommit(actor, pc.number), pc);
  }

  sector(actor: number, number: number): OnChainSector | undefined {
    return this.kv.getParsed(K.sector(actor, number), OnChainSectorSchema);
  }

  /** The miner's active sectors, in key order. */
  sectors(actor: number): OnChainSector[] {
    return this.kv.scanParsed(K.sectors(actor), OnChainSectorSchema).map((e) => e.value);
  }

  putSector(actor: number, s: OnChainSector): void {
    this.kv.putJSON(K.sector(actor, s.number), s);
  }

  deadlines(actor: number): DeadlineState[] {
    return this.kv.getParsed(K.deadlines(actor), DeadlinesSchema) ?? [];
  }

  putDeadlines(actor: number, dls: DeadlineState[]): void {
    this.kv.putJSON(K.deadlines(actor), dls);
  }

  isFaulty(actor: number, number: number): boolean {
    return this.kv.has(K.fault(actor, number));
  }

  faults(actor: number): FaultRecord[] {
    return this.kv.scanParsed(K.faults(actor), FaultRecordSchema).map((e) => e.value);
  }

  putFault(actor: number, f: FaultRecord): void {
    this.kv.putJSON(K.fault(actor, f.number), f);
  }

  delFault(actor: number, number: number): void {
    this.kv.del(K.fault(actor, number));
  }

  post(actor: number, open: number): PoStRecord | undefined {
    return this.kv.getParsed(K.post(actor, open), PoStRecordSchema);
  }

  /** The miner's newest `limit` deadline records, oldest first; reads only those. */
  latestPosts(actor: number, limit: number): PoStRecord[] {
    if (limit <= 0) return [];
    return this.kv
      .page(K.posts(actor), { limit, reverse: true })
      .reverse()
      .map((e) => this.kv.getParsed(e.key, PoStRecordSchema)!);
  }

  putPost(r: PoStRecord): void {
    this.kv.putJSON(K.post(r.actor, r.open), r);
  }

  /** The close epoch of the last deadline instance judged for the miner. */
  closedThrough(actor: number): number | undefined {
    return this.kv.getParsed(K.closedThrough(actor), int);
  }

  putClosedThrough(actor: number, epoch: number): void {
    this.kv.putJSON(K.closedThrough(actor), epoch);
  }

  stats(actor: number): ProvingStats {
    return { ...EMPTY_STATS, ...this.kv.getParsed(K.stats(actor), StoredStatsSchema) };
  }

  bumpStats(actor: number, change: Partial<ProvingStats>): void {
    const st = this.stats(actor);
    for (const [k, n] of Object.entries(change) as [keyof ProvingStats, number][]) st[k] += n;
    this.kv.putJSON(K.stats(actor), st);
  }

  block(actor: number, epoch: number): BlockRecord | undefined {
    return this.kv.getParsed(K.block(actor, epoch), BlockRecordSchema);
  }

  putBlock(b: BlockRecord): void {
    this.kv.putJSON(K.block(b.actor, b.epoch), b);
  }

  deal(id: number): OnChainDeal | undefined {
    return this.kv.getParsed(K.deal(id), OnChainDealSchema);
  }

  putDeal(d: OnChainDeal): void {
    this.kv.putJSON(K.deal(d.id), d);
    if (d.state === "published") this.kv.put(K.openDeal(d.id), "");
    else this.kv.del(K.openDeal(d.id));
  }

  /** Deals still waiting for activation, by id. */
  openDeals(): OnChainDeal[] {
    return this.kv
      .scan(K.openDeals)
      .map((e) => this.deal(Number(e.key.slice(K.openDeals.length))))
      .filter((d): d is OnChainDeal => d !== undefined);
  }

  /** The next deal id (ids start at 1, like the market's); call inside the transaction that uses it. */
  takeDealId(): number {
    const id = (this.kv.getParsed(K.dealNext, int) ?? 0) + 1;
    this.kv.putJSON(K.dealNext, id);
    return id;
  }

  dealIdByProposal(hash: string): number | undefined {
    return this.kv.getParsed(K.dealByProposal(hash), int);
  }

  putDealProposal(hash: string, id: number): void {
    this.kv.putJSON(K.dealByProposal(hash), id);
  }
}

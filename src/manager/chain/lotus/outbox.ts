import * as v from "valibot";
import { MessageSchema, SignedMessageSchema } from "../../../core/chain/lotus-api.ts";
import { ChainMessageSchema } from "../../../core/sector/api-chain.ts";
import type { Collection, KVStore } from "../../../core/store/index.ts";
import { epochKey } from "../../../core/store/retention.ts";

/**
 * The sender's durable outbox in the manager store ("common" collection, keys `chain/outbox/<id>`): one
 * record per logical message (id = messageId of the ChainMessage), written and synced to disk BEFORE
 * anything is sent, so a kill -9 at any point leaves either nothing sent or a record that names exactly
 * what was (or may have been) sent. Beside it, `chain/nonce/<sender>` is the next nonce the outbox will
 * give that sender, and `chain/deals/<actor>/<sector>` the deal ids a PreCommit named, which the sector's
 * ProveCommitSectors3 must carry as pieces (deals travel DDO-style, see core/chain/miner-calls.ts).
 *
 * Retention: record ids are message hashes, not time-ordered, so `chain/outbox-found/<height>/<id>` (an
 * empty marker kept beside the record's foundAt) indexes the messages found executed by height; prune()
 * walks that index from its oldest end. A message never found (pending, or lost) has no marker and is
 * never pruned. Stores written before the index are indexed once, at their first prune.
 */

const int = v.pipe(v.number(), v.safeInteger());

export const OutboxEntrySchema = v.object({
  id: v.string(),
  message: ChainMessageSchema,
  /** "local": signed here with a keystore key; "node": the node's wallet signs (MpoolPushMessage). */
  signer: v.picklist(["local", "node"]),
  /** The address the Filecoin message is sent from. */
  from: v.string(),
  /** Head height when the record was written. */
  pushedEpoch: int,
  /** local: the signed message, exactly the bytes (re-)pushed. node: what the node signed, once it answered. */
  signed: v.optional(SignedMessageSchema),
  /** The CID the chain knows the message by; absent only for a node-wallet intent the node has not answered. */
  cid: v.optional(v.string()),
  /** node: the message handed to MpoolPushMessage, and the uuid that makes repeating it safe. */
  intent: v.optional(v.object({ message: MessageSchema, msgUuid: v.string(), maxFee: v.string() })),
  /** The CID of a message that replaced ours (same sender and nonce, other gas), once seen. */
  replacedBy: v.optional(v.string()),
  /** The height at which the message was last found executed (a later miss is a reorg). */
  foundAt: v.optional(int),
  /** The head height of the last re-push, so a lost message is re-pushed at most once per epoch. */
  repushedAt: v.optional(int),
});
export type OutboxEntry = v.InferOutput<typeof OutboxEntrySchema>;

const KEY = {
  entry: (id: string) => `chain/outbox/${id}`,
  entries: "chain/outbox/",
  found: (height: number, id: string) => `chain/outbox-found/${epochKey(height)}/${id}`,
  founds: "chain/outbox-found/",
  /** Set once every record's marker exists (see prune). */
  indexed: "chain/outbox-indexed",
  nonce: (from: string) => `chain/nonce/${from}`,
  deals: (actor: number, sector: number) => `chain/deals/${actor}/${sector}`,
};

export class Outbox {
  private readonly kv: Collection;

  constructor(private readonly store: KVStore) {
    this.kv = store.collection("common");
  }

  get(id: string): OutboxEntry | undefined {
    return this.kv.getParsed(KEY.entry(id), OutboxEntrySchema);
  }

  /** The next nonce the outbox gives `from` (0 when it has sent nothing from it). */
  nextNonce(from: string): number {
    return this.kv.getParsed(KEY.nonce(from), int) ?? 0;
  }

  /** The deal ids a recorded PreCommit named for the sector; undefined when no PreCommit of it was recorded. */
  sectorDeals(actor: number, sector: number): number[] | undefined {
    return this.kv.getParsed(KEY.deals(actor, sector), v.array(int));
  }

  /**
   * Writes a new record (and, for a nonce it took, the sender's next nonce) in one transaction that is on
   * disk when the promise resolves.
   */
  async record(entry: OutboxEntry, nonce?: number): Promise<void> {
    await this.store.durable(() => {
      this.kv.putJSON(KEY.entry(entry.id), entry);
      if (nonce !== undefined && nonce + 1 > this.nextNonce(entry.from))
        this.kv.putJSON(KEY.nonce(entry.from), nonce + 1);
      const msg = entry.message;
      if (msg.method === "PreCommitSectorBatch2") {
        for (const s of msg.sectors) this.kv.putJSON(KEY.deals(msg.from, s.number), s.dealIds);
      }
    });
  }

  /** Updates what was learnt about a recorded message (the node's answer, a replacement, a sighting). */
  async update(entry: OutboxEntry): Promise<void> {
    await this.store.durable(() => {
      const before = this.get(entry.id)?.foundAt;
      if (before !== entry.foundAt) {
        if (before !== undefined) this.kv.del(KEY.found(before, entry.id));
        if (entry.foundAt !== undefined) this.kv.put(KEY.found(entry.foundAt, entry.id), "");
      }
      this.kv.putJSON(KEY.entry(entry.id), entry);
    });
  }

  /**
   * Deletes the records of messages found executed before `height` (and their markers); returns how
   * many. Pending messages are never touched. Works through the index a page at a time.
   */
  prune(height: number, pageSize = 500): number {
    this.indexOnce();
    const bound = `${KEY.founds}${epochKey(Math.max(0, height))}`;
    let removed = 0;
    for (;;) {
      const page = this.kv.page(KEY.founds, { limit: pageSize }).filter((e) => e.key < bound);
      if (page.length === 0) return removed;
      this.store.transaction(() => {
        for (const { key } of page) {
          const [at, id] = key.slice(KEY.founds.length).split("/") as [string, string];
          // A marker left behind by a later sighting (a reorg moved the message) only goes itself.
          if (this.get(id)?.foundAt === Number(at)) {
            this.kv.del(KEY.entry(id));
            removed++;
          }
          this.kv.del(key);
        }
      });
      if (page.length < pageSize) return removed;
    }
  }

  /** Writes the markers of records found before the index existed; once per store. */
  private indexOnce(): void {
    if (this.kv.has(KEY.indexed)) return;
    this.store.transaction(() => {
      for (const { key, value } of this.kv.entries(KEY.entries)) {
        const foundAt = (JSON.parse(value) as { foundAt?: unknown }).foundAt;
        if (typeof foundAt === "number") this.kv.put(KEY.found(foundAt, key.slice(KEY.entries.length)), "");
      }
      this.kv.put(KEY.indexed, "");
    });
  }
}

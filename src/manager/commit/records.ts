import * as v from "valibot";
import { MESSAGE_METHODS } from "../../core/sector/api-chain.ts";
import type { CommitKind } from "./policy.ts";

/**
 * The commit manager's records in the "common" collection: pending marks per sector and kind, the outbox
 * of built messages not yet pushed, the in-flight messages watched for metrics, and a nonce per miner.
 */
export const KEY = {
  pending: (kind: CommitKind, actor: number, n?: number) => `commit/pending/${kind}/${actor}/${n ?? ""}`,
  outboxes: "commit/outbox/",
  outbox: (cid: string) => `commit/outbox/${cid}`,
  inflights: "commit/inflight/",
  inflight: (cid: string) => `commit/inflight/${cid}`,
  nonce: (actor: number) => `commit/nonce/${actor}`,
};

const int = v.pipe(v.number(), v.safeInteger());

export const NonceSchema = int;

/** A pushed message until it lands or fails: what it carried, for the landing metrics. */
export const InflightSchema = v.object({
  actor: int,
  method: v.picklist(MESSAGE_METHODS),
  sectors: v.array(int),
});
export type Inflight = v.InferOutput<typeof InflightSchema>;

/**
 * Sectors as every role sees them: ids and names, proof types and sizes, states and result enums, CIDs of
 * commitments, and the wire shapes they travel in. RPC method tables are imported from their own files
 * (api.ts = Venus, api-worker.ts = VenusWorker, api-wdpost.ts, api-proving.ts, api-chain.ts).
 */

export * from "./cid.ts";
export * from "./commd.ts";
export * from "./id.ts";
export * from "./proof.ts";
export * from "./states.ts";
export * from "./wire.ts";

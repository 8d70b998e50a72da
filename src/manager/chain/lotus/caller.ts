import type { RpcClient } from "../../../core/rpc/index.ts";

/** What the Lotus chain client needs of an RPC connection: typed, validated calls (core/rpc RpcClient). */
export type LotusCaller = Pick<RpcClient, "call">;

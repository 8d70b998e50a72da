import { DEVNET_NETWORK_PREFIX, DevnetApi, LOTUS_RPC_PATH, LotusApi } from "../../../core/chain/lotus-api.ts";
import {
  type FetchRequest,
  RpcCallError,
  RpcClient,
  RpcErrorCode,
  RpcTransportError,
} from "../../../core/rpc/index.ts";
import type { ChainPolicy, MinerInfo } from "../../../core/sector/chain.ts";
import { type HeadSubscription, LotusChain, type MessagePort } from "./chain.ts";
import { networkPolicy } from "./chain-policy.ts";
import { minerAddress, minerInfoFromLotus } from "./convert.ts";
import { LotusChainError } from "./errors.ts";

/**
 * Connecting the manager to its chain node: read [Common.API], check the node answers, is on the expected
 * network and holds every configured miner, and read the policy before anything runs (policy() is
 * synchronous). Every failure is a LotusChainError naming the node, the method and the fix.
 */

export interface NodeApiInfo {
  /** A multiaddr, URL or host:port; the path defaults to LOTUS_RPC_PATH. */
  address: string;
  token: string | undefined;
}

/**
 * [Common.API] as the original writes it: `Chain = "<token>:<multiaddr>"` (lotus' FULLNODE_API_INFO form),
 * or `Chain = "<multiaddr or URL>"` with the token in `Token`. A token in both places must agree.
 */
export function parseNodeApiInfo(chain: string, token?: string): NodeApiInfo {
  const text = chain.trim();
  if (text === "") {
    throw new LotusChainError(
      "bad-config",
      `[Common.API] Chain is empty: set it to "<token>:/ip4/<host>/tcp/<port>/http" or the node's URL`,
    );
  }
  const combined = /^([^:/\s]+):(\/[^/].*)$/.exec(text);
  const configuredToken = token?.trim() || undefined;
  if (!combined) return { address: text, token: configuredToken };
  const [, inChain, address] = combined;
  if (configuredToken !== undefined && configuredToken !== inChain) {
    throw new LotusChainError(
      "bad-config",
      `[Common.API] Chain carries a token and Token holds another: keep one of them (Chain = "<token>:<multiaddr>" or Token)`,
    );
  }
  return { address: address!, token: inChain };
}

export interface ConnectedNode {
  client: RpcClient;
  /** The node's RPC URL, for messages. */
  url: string;
  networkName: string;
  policy: ChainPolicy;
}

export interface LotusConnectOptions {
  /** [Common.API] Chain. */
  chain: string;
  /** [Common.API] Token, when Chain does not carry it. */
  token?: string;
  /** The miner actor ids this manager runs ([[Miners]] Actor). */
  miners: readonly number[];
  /** Refuse a node on another network (its StateNetworkName). */
  expectedNetwork?: string;
  /** [Commitment] Confidence: epochs after inclusion a message counts as landed (real networks). */
  messageConfidence: number;
  /** The message side (MessageSender), built over the connected node's client. */
  messages: (node: ConnectedNode) => MessagePort;
  /** An in-process transport: a devnet hosted by this process answers without a socket. */
  fetch?: FetchRequest;
  /** Per-call timeout (default 60 s). */
  timeoutMs?: number;
  /** The node's pushed heads, for a node hosted in this process (see LotusChainDeps.heads). */
  heads?: HeadSubscription;
}

const TOKEN_FIX = `set [Common.API] Token or Chain = "<token>:<multiaddr>" (a token with read,write,sign)`;

function isRefusal(err: unknown): boolean {
  const refused = [RpcErrorCode.Unauthorized, RpcErrorCode.Forbidden] as number[];
  if (err instanceof RpcCallError) return refused.includes(err.code);
  return err instanceof RpcTransportError && err.httpStatus !== undefined && refused.includes(err.httpStatus);
}

/** A call of the connect sequence, its failure turned into what the operator must do. */
async function step<T>(url: string, method: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof LotusChainError) throw err;
    if (isRefusal(err)) {
      throw new LotusChainError("unauthorized", `the chain node at ${url} refused the token (${method}): ${TOKEN_FIX}`);
    }
    if (err instanceof RpcTransportError) {
      const cause = err.cause instanceof Error ? err.cause.message : err.message;
      const code = err.httpStatus === undefined && err.cause !== undefined ? "unreachable" : "bad-answer";
      const what = code === "unreachable" ? "cannot reach the chain node" : "cannot use the answer of the chain node";
      throw new LotusChainError(code, `${what} at ${url} (${method}): ${cause}; check [Common.API] Chain`);
    }
    if (err instanceof RpcCallError) {
      throw new LotusChainError(
        "bad-answer",
        `the chain node at ${url} failed ${method}: ${err.rpcMessage} (code ${err.code}); is it a Filecoin node serving ${LOTUS_RPC_PATH}?`,
      );
    }
    throw err;
  }
}

export async function connectLotusChain(opts: LotusConnectOptions): Promise<LotusChain> {
  const info = parseNodeApiInfo(opts.chain, opts.token);
  let client: RpcClient;
  try {
    client = new RpcClient(info.address, {
      defaultPath: LOTUS_RPC_PATH,
      headers: info.token ? { Authorization: `Bearer ${info.token}` } : {},
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    });
  } catch (err) {
    throw new LotusChainError("bad-config", `[Common.API] Chain: ${(err as Error).message}`);
  }
  const url = client.endpoint.http;
  try {
    await step(url, LotusApi.Version.name, () => client.call(LotusApi.Version));
    const networkName = await step(url, LotusApi.StateNetworkName.name, () => client.call(LotusApi.StateNetworkName));
    if (opts.expectedNetwork !== undefined && opts.expectedNetwork !== networkName) {
      throw new LotusChainError(
        "wrong-network",
        `the chain node at ${url} is on network ${JSON.stringify(networkName)}, not ${JSON.stringify(opts.expectedNetwork)}: point [Common.API] Chain at a node of ${JSON.stringify(opts.expectedNetwork)}`,
      );
    }
    const infos = await checkMiners(client, url, networkName, opts.miners);
    const policy = await readPolicy(client, url, networkName, infos[0], opts.messageConfidence);
    const messages = opts.messages({ client, url, networkName, policy });
    return new LotusChain({ client, networkName, policy, miners: opts.miners, messages, heads: opts.heads });
  } catch (err) {
    client.close();
    throw err;
  }
}

async function checkMiners(
  client: RpcClient,
  url: string,
  networkName: string,
  miners: readonly number[],
): Promise<MinerInfo[]> {
  const method = LotusApi.StateMinerInfo.name;
  return Promise.all(
    miners.map(async (actor) => {
      const addr = minerAddress(actor, networkName);
      try {
        return minerInfoFromLotus(actor, await client.call(LotusApi.StateMinerInfo, addr, null));
      } catch (err) {
        if (err instanceof RpcCallError && !isRefusal(err) && err.code !== RpcErrorCode.MethodNotFound) {
          throw new LotusChainError(
            "unknown-miner",
            `miner ${addr} is not a miner on network ${JSON.stringify(networkName)} (the chain node at ${url} answered ${method}: ${err.rpcMessage}): check the miner's actor id, or [Common.API] Chain`,
          );
        }
        return step(url, method, () => Promise.reject(err));
      }
    }),
  );
}

async function readPolicy(
  client: RpcClient,
  url: string,
  networkName: string,
  miner: MinerInfo | undefined,
  messageConfidence: number,
): Promise<ChainPolicy> {
  if (networkName.startsWith(DEVNET_NETWORK_PREFIX)) {
    return step(url, DevnetApi.Policy.name, () => client.call(DevnetApi.Policy));
  }
  const params = await step(url, LotusApi.StateGetNetworkParams.name, () =>
    client.call(LotusApi.StateGetNetworkParams),
  );
  const deadline = miner
    ? await step(url, LotusApi.StateMinerProvingDeadline.name, () =>
        client.call(LotusApi.StateMinerProvingDeadline, minerAddress(miner.actor, networkName), null),
      )
    : undefined;
  return networkPolicy({
    blockDelaySecs: params.BlockDelaySecs,
    preCommitChallengeDelay: params.PreCommitChallengeDelay,
    ...(deadline ? { deadline } : {}),
    messageConfidence,
  });
}

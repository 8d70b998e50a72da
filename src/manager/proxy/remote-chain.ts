import { childLogger } from "../../core/log/index.ts";
import { RpcCallError, RpcClient, RpcErrorCode, RpcTransportError } from "../../core/rpc/index.ts";
import { type ChainHeadInfo, Damocles } from "../../core/sector/api.ts";
import { PoStChainApi } from "../../core/sector/api-chain.ts";
import type {
  BlockRecord,
  ChainHead,
  ChainMessage,
  ChainPolicy,
  DeadlineInfo,
  FaultRecord,
  MessageLookup,
  MinerInfo,
  PoStChain,
  PoStProofWire,
  PoStRecord,
  ProvingPartition,
  ProvingSector,
  ProvingStats,
} from "../../core/sector/chain.ts";

const log = childLogger("proxy");

/** How long the first probe of the source waits: a proxy that cannot reach its source should say so quickly. */
const CONNECT_TIMEOUT_MS = 10_000;

/** The source could not be used as a chain: unreachable, or not a damocles manager serving Damocles.PoStChain*. */
export class ProxySourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProxySourceError";
  }
}

/**
 * The source manager's chain over `Damocles.PoStChain*`, for a proxy node's poster and miner. Results are
 * validated by the client against the API's schemas, so a wrong or older source fails loudly here rather
 * than deep inside a proof.
 */
export class RemotePoStChain implements PoStChain {
  private stopPolling: (() => void) | undefined;

  private constructor(
    private readonly client: RpcClient,
    /** Fixed for the life of this node: the source's block time and deadlines change only with its restart. */
    private readonly chainPolicy: ChainPolicy,
    readonly addr: string,
  ) {}

  /**
   * Connects to the source at `addr` (host:port, URL or multiaddr) and reads its policy once, because
   * policy() is synchronous. Throws ProxySourceError naming the address and the likely cause.
   */
  static async connect(
    addr: string,
    opts: { timeoutMs?: number; headers?: Record<string, string> } = {},
  ): Promise<RemotePoStChain> {
    const hint = `is ${addr} a damocles manager hosting the devnet?`;
    const probe = new RpcClient(addr, { timeoutMs: CONNECT_TIMEOUT_MS, headers: opts.headers });
    let policy: ChainPolicy;
    try {
      policy = await probe.call(PoStChainApi.Policy);
    } catch (err) {
      if (err instanceof RpcCallError && err.code === RpcErrorCode.MethodNotFound) {
        throw new ProxySourceError(
          `the proxy source ${addr} answers, but does not serve Damocles.PoStChain* (${err.rpcMessage}): ${hint}`,
          {
            cause: err,
          },
        );
      }
      if (
        err instanceof RpcCallError &&
        (err.code === RpcErrorCode.Unauthorized || err.code === RpcErrorCode.Forbidden)
      ) {
        throw new ProxySourceError(
          `the proxy source ${addr} refused this node: ${err.rpcMessage}. Pass a token of the source with sign permission: --proxy-token or $DAMOCLES_TOKEN`,
          { cause: err },
        );
      }
      if (err instanceof RpcTransportError)
        throw new ProxySourceError(`the proxy source does not answer: ${err.message} (${hint} Is it running?)`, {
          cause: err,
        });
      throw new ProxySourceError(
        `the proxy source ${addr} failed ${PoStChainApi.Policy.name}: ${(err as Error).message} (${hint})`,
        { cause: err },
      );
    } finally {
      probe.close();
    }
    return new RemotePoStChain(new RpcClient(addr, { timeoutMs: opts.timeoutMs, headers: opts.headers }), policy, addr);
  }

  head(): Promise<ChainHead> {
    return this.client.call(PoStChainApi.Head);
  }

  /** The source's `Damocles.ChainHead` (what `util chain head` shows), forwarded as is. */
  chainHeadInfo(): Promise<ChainHeadInfo> {
    return this.client.call(Damocles.ChainHead);
  }

  policy(): ChainPolicy {
    return this.chainPolicy;
  }

  async minerInfo(actor: number): Promise<MinerInfo | undefined> {
    return (await this.client.call(PoStChainApi.MinerInfo, actor)) ?? undefined;
  }

  provingDeadline(actor: number): Promise<DeadlineInfo> {
    return this.client.call(PoStChainApi.ProvingDeadline, actor);
  }

  provingPartitions(actor: number, open: number): Promise<ProvingPartition[]> {
    return this.client.call(PoStChainApi.ProvingPartitions, actor, open);
  }

  windowPoStRandomness(actor: number, epoch: number): Promise<Uint8Array> {
    return this.client.call(PoStChainApi.WindowPoStRandomness, actor, epoch);
  }

  async pushMessage(msg: ChainMessage): Promise<string> {
    // A proxy only proves; sealing messages belong to the source's commit manager, which tracks their state.
    if (msg.method !== "SubmitWindowedPoSt")
      throw new Error(`a proxy node pushes only SubmitWindowedPoSt, not ${msg.method}`);
    return this.client.call(PoStChainApi.PushMessage, msg);
  }

  async messageLookup(cid: string): Promise<MessageLookup | undefined> {
    return (await this.client.call(PoStChainApi.MessageLookup, cid)) ?? undefined;
  }

  isElected(actor: number, epoch: number): Promise<boolean> {
    return this.client.call(PoStChainApi.IsElected, actor, epoch);
  }

  winningPoStRandomness(actor: number, epoch: number): Promise<Uint8Array> {
    return this.client.call(PoStChainApi.WinningPoStRandomness, actor, epoch);
  }

  winningSectorSet(actor: number, epoch: number): Promise<ProvingSector[]> {
    return this.client.call(PoStChainApi.WinningSectorSet, actor, epoch);
  }

  submitBlock(actor: number, epoch: number, proofs: PoStProofWire[]): Promise<BlockRecord> {
    return this.client.call(PoStChainApi.SubmitBlock, actor, epoch, proofs);
  }

  faults(actor: number): Promise<FaultRecord[]> {
    return this.client.call(PoStChainApi.Faults, actor);
  }

  postRecords(actor: number, limit?: number): Promise<PoStRecord[]> {
    return this.client.call(PoStChainApi.PostRecords, actor, limit);
  }

  provingStats(actor: number): Promise<ProvingStats> {
    return this.client.call(PoStChainApi.ProvingStats, actor);
  }

  /**
   * The remote chain cannot push heads, so this polls head() about every half block and calls `listener`
   * once per new epoch, in order. After a long gap (the source was away) only the last challenge window
   * of epochs is replayed: older ones can no longer be proven anyway. Returns a function that stops it.
   */
  onHead(listener: (epoch: number) => void): () => void {
    this.stopPolling?.();
    const every = Math.max(20, Math.min(1000, Math.floor(this.chainPolicy.blockTimeMs / 2)));
    const maxReplay = this.chainPolicy.wpostChallengeWindow;
    // The first poll delivers only the head: there is nothing to catch up on before this node started.
    let last: number | undefined;
    let down: string | undefined;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deliver = (epoch: number) => {
      try {
        listener(epoch);
      } catch (err) {
        log.error(`head listener failed at epoch ${epoch}:`, err);
      }
    };
    const poll = async () => {
      let epoch: number | undefined;
      try {
        epoch = (await this.head()).epoch;
        if (down !== undefined) log.info(`the proxy source ${this.addr} answers again (head ${epoch})`);
        down = undefined;
      } catch (err) {
        // One line per outage, not one per poll.
        if (down === undefined)
          log.warn(
            `cannot read the head of the proxy source ${this.addr}: ${(err as Error).message}; retrying every ${every} ms`,
          );
        down = (err as Error).message;
      }
      if (epoch !== undefined && (last === undefined || epoch > last)) {
        for (let e = Math.max((last ?? epoch - 1) + 1, epoch - maxReplay + 1); e <= epoch && !stopped; e++) deliver(e);
        last = epoch;
      }
      if (!stopped) timer = setTimeout(() => void poll(), every);
    };
    void poll();
    const stop = () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (this.stopPolling === stop) this.stopPolling = undefined;
    };
    this.stopPolling = stop;
    return stop;
  }

  close(): void {
    this.stopPolling?.();
    this.client.close();
  }
}

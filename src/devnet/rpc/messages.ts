import {
  dagCborCid,
  parseAddress,
  type SignedMessage,
  signMessage,
  type UnsignedMessage,
} from "../../core/chain/index.ts";
import { LotusApi, type LotusMessage, type MsgLookup } from "../../core/chain/lotus-api.ts";
import { RpcError, type RpcRegistry } from "../../core/rpc/index.ts";
import { type Account, idString } from "../accounts.ts";
import type { DevnetChain } from "../chain.ts";
import { gasEstimate, MessageRefusedError } from "../intake.ts";
import { messageFromJson, msgLookupJson, signedFromJson, signedToJson } from "./message-json.ts";

/**
 * The message side of the Filecoin.* API the devnet serves at /rpc/v1: pushing signed messages (MpoolPush),
 * or unsigned ones its wallet signs with a dev key (MpoolPushMessage), nonces, balances, gas estimates,
 * account addresses, and finding executed messages with their receipts (StateSearchMsg, StateWaitMsg).
 * Refusals are RPC errors (code 1, go-jsonrpc's default) whose message names the field, the value and
 * the fix.
 */

/** go-jsonrpc's error code for an error a handler returned. */
export const LOTUS_ERROR = 1;
/** Lotus's GasEstimateMessageGas overestimation (GasLimitOverestimation). */
const GAS_OVERESTIMATION = 1.25;
/** The premium GasEstimateMessageGas suggests (attoFIL per gas). */
const DEFAULT_PREMIUM = 100_000n;

export interface DevnetMessageApiOptions {
  /** The longest StateWaitMsg waits before answering an error (keep it under the clients' RPC timeout). */
  waitTimeoutMs?: number;
}

/** The tipset key the devnet gives `epoch`'s tipset: one block, its CID derived from the epoch. */
export function devnetTipSetKey(epoch: number): { "/": string }[] {
  return [{ "/": dagCborCid(new TextEncoder().encode(`damocles-devnet/tipset/${epoch}`)).toString() }];
}

const refused = (err: unknown): never => {
  if (err instanceof MessageRefusedError) throw new RpcError(LOTUS_ERROR, err.message);
  throw err;
};

function accountOf(devnet: DevnetChain, address: string): Account {
  let account: Account | undefined;
  try {
    account = devnet.account(address);
  } catch (err) {
    throw new RpcError(LOTUS_ERROR, `address: ${(err as Error).message}`);
  }
  if (!account) throw new RpcError(LOTUS_ERROR, `actor not found: ${address} has no account on this devnet`);
  return account;
}

/** The message with GasLimit, GasFeeCap and GasPremium filled where they are 0. */
function withGas(devnet: DevnetChain, m: UnsignedMessage): UnsignedMessage {
  const gasLimit = m.gasLimit > 0 ? m.gasLimit : Math.ceil(gasEstimate(m.params.length) * GAS_OVERESTIMATION);
  const gasPremium = m.gasPremium > 0n ? m.gasPremium : DEFAULT_PREMIUM;
  const gasFeeCap = m.gasFeeCap > 0n ? m.gasFeeCap : devnet.baseFee() * 2n + gasPremium;
  return { ...m, gasLimit, gasPremium, gasFeeCap };
}

function unsigned(json: LotusMessage): UnsignedMessage {
  try {
    return messageFromJson(json);
  } catch (err) {
    return refused(err);
  }
}

function search(devnet: DevnetChain, cid: string, allowReplaced: boolean): MsgLookup | null {
  const found = devnet.executedMessage(cid, allowReplaced);
  if (!found) return null;
  const height = found.lookup.packedEpoch ?? found.lookup.pushedEpoch;
  return msgLookupJson(found.lookup, found.gasUsed, devnetTipSetKey(height));
}

/** Waits, on the devnet's epoch listener, until `cid` executed and `confidence` epochs passed on top. */
function waitMsg(
  devnet: DevnetChain,
  cid: string,
  confidence: number,
  allowReplaced: boolean,
  timeoutMs: number,
): Promise<MsgLookup> {
  return new Promise((resolve, reject) => {
    let off = (): void => {};
    const done = (fn: () => void): void => {
      clearTimeout(timer);
      off();
      fn();
    };
    const check = (): void => {
      try {
        const found = search(devnet, cid, allowReplaced);
        if (found && devnet.processedEpoch() >= found.Height + confidence) done(() => resolve(found));
      } catch (err) {
        done(() => reject(err));
      }
    };
    const timer = setTimeout(
      () =>
        done(() =>
          reject(
            new RpcError(
              LOTUS_ERROR,
              `message ${cid} was not executed with ${confidence} epochs of confidence within ${timeoutMs} ms: check it with StateSearchMsg, or wait again`,
            ),
          ),
        ),
      timeoutMs,
    );
    off = devnet.onEpoch(check);
    check();
  });
}

export function registerDevnetMessageApi(
  registry: RpcRegistry,
  devnet: DevnetChain,
  opts: DevnetMessageApiOptions = {},
): RpcRegistry {
  const waitTimeoutMs = opts.waitTimeoutMs ?? 300_000;
  const push = (signed: SignedMessage, uuid?: string): string => {
    try {
      return devnet.pushSigned(signed, uuid);
    } catch (err) {
      return refused(err);
    }
  };
  return registry
    .implement(LotusApi.MpoolPush, (message) => {
      let signed: SignedMessage;
      try {
        signed = signedFromJson(message);
      } catch (err) {
        return refused(err);
      }
      return { "/": push(signed) };
    })
    .implement(LotusApi.MpoolGetNonce, (address) => {
      const account = accountOf(devnet, address);
      return devnet.nextNonce(account);
    })
    .implement(LotusApi.WalletBalance, (address) => {
      try {
        return devnet.account(address)?.balance ?? "0";
      } catch (err) {
        throw new RpcError(LOTUS_ERROR, `address: ${(err as Error).message}`);
      }
    })
    .implement(LotusApi.GasEstimateMessageGas, (message) => {
      const m = withGas(devnet, unsigned(message));
      return {
        ...message,
        GasLimit: m.gasLimit,
        GasFeeCap: m.gasFeeCap.toString(),
        GasPremium: m.gasPremium.toString(),
      };
    })
    .implement(LotusApi.StateLookupID, (address) => {
      const parsed = (() => {
        try {
          return parseAddress(address);
        } catch (err) {
          throw new RpcError(LOTUS_ERROR, `address: ${(err as Error).message}`);
        }
      })();
      if (parsed.protocol === 0) {
        const id = Number(parsed.string.slice(2));
        // Miner actors have ID addresses too (they have no key).
        if (devnet.account(address) || minerExists(devnet, id)) return idString(id);
        throw new RpcError(LOTUS_ERROR, `actor not found: ${address}`);
      }
      return idString(accountOf(devnet, address).id);
    })
    .implement(LotusApi.StateAccountKey, (address) => accountOf(devnet, address).key)
    .implement(LotusApi.StateSearchMsg, (_tsk, message, _lookback, allowReplaced) =>
      search(devnet, message["/"], allowReplaced),
    )
    .implement(LotusApi.StateWaitMsg, (message, confidence, _lookback, allowReplaced) =>
      waitMsg(devnet, message["/"], confidence, allowReplaced, waitTimeoutMs),
    )
    .implement(LotusApi.MpoolPushMessage, (message, spec) => {
      const uuid = spec?.MsgUuid;
      const again = uuid === undefined ? undefined : devnet.signedByUuid(uuid);
      if (again) return signedToJson(again);
      const m = unsigned(message);
      const account = accountOf(devnet, m.from);
      const key = devnet.devKeyOf(account);
      if (!key) {
        throw new RpcError(
          LOTUS_ERROR,
          `From: this devnet holds no key for ${m.from} (a Worker from the configuration): sign the message locally and send it with MpoolPush`,
        );
      }
      const signed = signMessage(withGas(devnet, { ...m, nonce: devnet.nextNonce(account) }), key);
      push(signed, uuid);
      return signedToJson(signed);
    });
}

function minerExists(devnet: DevnetChain, id: number): boolean {
  try {
    devnet.minerWorker(id);
    return true;
  } catch {
    return false;
  }
}

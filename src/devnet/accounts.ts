import { createHash } from "node:crypto";
import * as v from "valibot";
import {
  ADDRESS_PROTOCOLS,
  type Address,
  addressId,
  idAddress,
  keyAddress,
  type PrivateKey,
  parseAddress,
  withNetwork,
} from "../core/chain/index.ts";
import type { DevnetStore } from "./store.ts";

/**
 * The devnet's account actors: each miner's worker (= owner) is an account with an ID address (f0100,
 * f0101… in the order the miners are first created, sorted by actor), its key address (f1/f3), a balance
 * in attoFIL and a nonce. The devnet's network is "testnet": addresses print as t0…/t1…/t3…, and both
 * prefixes are read. Created once, in the transaction that creates nothing else, so a restart that
 * ensures the same workers again changes nothing.
 *
 * Dev keys: a miner configured without a Worker gets a secp256k1 key derived from the chain's Seed and
 * the actor (sha256 of a domain-separated string). Like lotus-seed's pre-seal keys these are well-known
 * test keys: anyone who knows the seed can sign for them. The devnet signs with them itself (a Lotus
 * node's wallet), for MpoolPushMessage; never use them on a real network.
 */

export const DEVNET_NETWORK = "testnet";
export const FIRST_ACCOUNT_ID = 100;

const int = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
export const AccountSchema = v.object({
  id: int,
  /** The key address, as its testnet string (t1…/t3…). */
  key: v.string(),
  /** attoFIL, as a decimal string (bigint does not travel in JSON). */
  balance: v.pipe(v.string(), v.regex(/^\d+$/)),
  /** The nonce of the next message the account executes. */
  nonce: int,
});
export type Account = v.InferOutput<typeof AccountSchema>;

const AK = {
  account: (id: number) => `account/${id}`,
  byKey: (key: string) => `account-key/${key}`,
  next: "account-next",
  worker: (actor: number) => `miner-worker/${actor}`,
};

/** The testnet string of an address in either network's form. */
export const testnetString = (address: Address): string => withNetwork(address, DEVNET_NETWORK).string;

/** The well-known dev key of a miner's worker on a devnet with `seed` (see the module comment). */
export function devWorkerKey(seed: string, actor: number): PrivateKey {
  for (let attempt = 0; ; attempt++) {
    const digest = createHash("sha256")
      .update(`damocles-devnet/dev-worker-key/v1/${seed}/f0${actor}/${attempt}`)
      .digest();
    const key: PrivateKey = { type: "secp256k1", bytes: new Uint8Array(digest) };
    try {
      keyAddress(key, DEVNET_NETWORK);
      return key;
    } catch {
      // a digest past the curve order (odds 2^-128): hash again
    }
  }
}

export class Accounts {
  constructor(private readonly db: DevnetStore) {}

  get(id: number): Account | undefined {
    return this.db.kv.getParsed(AK.account(id), AccountSchema);
  }

  /** The account behind an ID or key address string (either prefix); undefined when none. */
  resolve(text: string): Account | undefined {
    const address = parseAddress(text);
    if (address.protocol === ADDRESS_PROTOCOLS.id) return this.get(Number(addressId(address)));
    const id = this.db.kv.getParsed(AK.byKey(testnetString(address)), int);
    return id === undefined ? undefined : this.get(id);
  }

  put(account: Account): void {
    this.db.kv.putJSON(AK.account(account.id), account);
  }

  /** The worker account of a miner actor. */
  workerOf(actor: number): Account | undefined {
    const id = this.db.kv.getParsed(AK.worker(actor), int);
    return id === undefined ? undefined : this.get(id);
  }

  /**
   * Makes `workerKey` (a key address) the miner's worker, creating its account with `balance` when the
   * key has none. Idempotent; the worker of a miner that has one already is kept (a changed Worker
   * setting is refused, naming both).
   */
  ensureWorker(actor: number, workerKey: string, balance: bigint): Account {
    const address = parseAddress(workerKey);
    if (address.protocol !== ADDRESS_PROTOCOLS.secp256k1 && address.protocol !== ADDRESS_PROTOCOLS.bls) {
      throw new Error(`devnet miner f0${actor}: Worker ${workerKey} is not a key address; use its t1…/t3… address`);
    }
    const key = testnetString(address);
    return this.db.transaction(() => {
      const current = this.workerOf(actor);
      if (current) {
        if (current.key !== key) {
          throw new Error(
            `devnet miner t0${actor} was created with worker ${current.key}; the configured Worker ${key} differs: set Worker back (a worker change is not modelled)`,
          );
        }
        return current;
      }
      const account = this.resolve(key) ?? this.create(key, balance);
      this.db.kv.putJSON(AK.worker(actor), account.id);
      return account;
    });
  }

  private create(key: string, balance: bigint): Account {
    const id = this.db.kv.getParsed(AK.next, int) ?? FIRST_ACCOUNT_ID;
    const account: Account = { id, key, balance: balance.toString(), nonce: 0 };
    this.put(account);
    this.db.kv.putJSON(AK.byKey(key), id);
    this.db.kv.putJSON(AK.next, id + 1);
    return account;
  }
}

/** The ID address string of an account or actor on the devnet. */
export const idString = (id: number): string => idAddress(id, DEVNET_NETWORK).string;

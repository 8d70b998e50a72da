import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { type Address, type Network, parseAddress, withNetwork } from "./address.ts";
import {
  fromLotusKeyInfo,
  generatePrivateKey,
  keyAddress,
  LotusKeyInfoSchema,
  type PrivateKey,
  toLotusKeyInfo,
} from "./keys.ts";
import type { KeyType } from "./signature.ts";

/**
 * The manager's local wallet: `<home>/keystore/`, one file per key named by its f1/f3 address (t1/t3 on
 * testnets), each holding the Lotus key-info JSON {"Type","PrivateKey"} that `lotus wallet export` writes
 * (hex-encoded there), so keys move between Lotus and damocles unchanged. Files are 0600 in a 0700
 * directory, written to a temporary name, synced and renamed, so a kill -9 leaves either no key or a
 * whole one. Reading refuses what could be a leaked or swapped key: a group/world-readable file or
 * directory, and a file whose key does not derive the address it is named by. No message here carries
 * key bytes or file contents; each names the file and the fix.
 */

export const KEYSTORE_DIR = "keystore";

export type LotusKeyInfo = v.InferOutput<typeof LotusKeyInfoSchema>;

export type KeystoreErrorCode =
  /** The file or directory can be read by others than its owner. */
  | "unsafe-mode"
  /** The file is not Lotus key-info JSON, or its key is not a valid key. */
  | "corrupt"
  /** The file's key derives another address than its name, or the name is not a key address. */
  | "misnamed"
  /** The file is named for the other network than the keystore is opened for. */
  | "network"
  /** No key for the asked address. */
  | "missing"
  /** Key-info text given to import is neither JSON nor hex-encoded JSON of a key info. */
  | "key-info";

export class KeystoreError extends Error {
  override name = "KeystoreError";
  constructor(
    readonly code: KeystoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface KeystoreEntry {
  address: Address;
  type: KeyType;
  /** The key's file. */
  file: string;
}

/** The keystore directory of a manager home. */
export function keystoreDir(home: string): string {
  return join(home, KEYSTORE_DIR);
}

const PREFIX: Record<Network, string> = { mainnet: "f", testnet: "t" };

/** A keystore directory whose key files are named with `network`'s address prefix. */
export class Keystore {
  constructor(
    readonly dir: string,
    readonly network: Network,
  ) {}

  /** Every key, sorted by address; refuses (KeystoreError) the first file that is not a sound key file. */
  list(): KeystoreEntry[] {
    if (!existsSync(this.dir)) return [];
    this.checkDirMode();
    const names = readdirSync(this.dir)
      .filter((name) => !name.startsWith("."))
      .sort();
    return names.map((name) => {
      const address = this.addressOfName(name);
      const key = this.load(address);
      return { address, type: key.type, file: this.fileOf(address) };
    });
  }

  /** Whether the keystore holds a key for `address` (either network's spelling). */
  has(address: Address | string): boolean {
    return existsSync(this.fileOf(this.render(address)));
  }

  /** The private key of `address` (f1/f3 or t1/t3); KeystoreError "missing" when there is none. */
  get(address: Address | string): PrivateKey {
    const rendered = this.render(address);
    if (!existsSync(this.fileOf(rendered))) {
      throw new KeystoreError(
        "missing",
        `no key for ${rendered.string} in ${this.dir}; import it (damocles util wallet import) or use another sender`,
      );
    }
    this.checkDirMode();
    return this.load(rendered);
  }

  /** A new random key of `type`, stored; returns its address. */
  create(type: KeyType): Address {
    return this.store(generatePrivateKey(type));
  }

  /** Stores a Lotus key info; importing a key the keystore already holds changes nothing. */
  import(info: LotusKeyInfo): Address {
    const parsed = v.safeParse(LotusKeyInfoSchema, info);
    if (!parsed.success) throw new KeystoreError("key-info", `key info: ${describeIssues(parsed.issues)}`);
    let key: PrivateKey;
    try {
      key = fromLotusKeyInfo(parsed.output);
      keyAddress(key, this.network);
    } catch (err) {
      throw new KeystoreError("key-info", `key info: ${(err as Error).message}`);
    }
    return this.store(key);
  }

  private store(key: PrivateKey): Address {
    const address = keyAddress(key, this.network);
    const file = this.fileOf(address);
    this.ensureDir();
    // The same address means the same public key, hence the same key; the file is checked all the same.
    if (existsSync(file)) {
      this.load(address);
      return address;
    }
    const tmp = join(this.dir, `.${address.string}.${process.pid}.tmp`);
    rmSync(tmp, { force: true }); // left by a crash of a process with the same pid
    const fd = openSync(tmp, "wx", 0o600);
    try {
      writeSync(fd, `${JSON.stringify(toLotusKeyInfo(key))}\n`);
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw err;
    }
    closeSync(fd);
    renameSync(tmp, file);
    syncDir(this.dir);
    return address;
  }

  private ensureDir(): void {
    if (!existsSync(this.dir)) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      syncDir(join(this.dir, ".."));
    }
    this.checkDirMode();
  }

  private checkDirMode(): void {
    if ((statSync(this.dir).mode & 0o077) !== 0) {
      throw new KeystoreError(
        "unsafe-mode",
        `keystore directory ${this.dir} is open to other users (mode ${modeText(this.dir)}); run: chmod 700 ${this.dir}`,
      );
    }
  }

  /** Reads and checks the key file of `address` (rendered for this network). */
  private load(address: Address): PrivateKey {
    const file = this.fileOf(address);
    if ((statSync(file).mode & 0o077) !== 0) {
      throw new KeystoreError(
        "unsafe-mode",
        `key file ${file} is readable by other users (mode ${modeText(file)}); run: chmod 600 ${file}`,
      );
    }
    const fix = "restore it from a backup, or move it out of the keystore";
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, "utf8"));
    } catch {
      // The parser's message may quote the file's text, which is key material: it is left out.
      throw new KeystoreError("corrupt", `key file ${file} is not JSON ({"Type","PrivateKey"}); ${fix}`);
    }
    const parsed = v.safeParse(LotusKeyInfoSchema, json);
    if (!parsed.success) {
      throw new KeystoreError("corrupt", `key file ${file}: ${describeIssues(parsed.issues)}; ${fix}`);
    }
    let derived: Address;
    const key = fromLotusKeyInfo(parsed.output);
    try {
      derived = keyAddress(key, this.network);
    } catch (err) {
      throw new KeystoreError("corrupt", `key file ${file}: ${(err as Error).message}; ${fix}`);
    }
    if (derived.string !== address.string) {
      throw new KeystoreError(
        "misnamed",
        `key file ${file} holds the key of ${derived.string}, not of the address it is named by; rename it to ${derived.string} or remove it`,
      );
    }
    return key;
  }

  private addressOfName(name: string): Address {
    const file = join(this.dir, name);
    let address: Address;
    try {
      address = parseAddress(name);
    } catch {
      throw new KeystoreError(
        "misnamed",
        `${file} is not a key file (key files are named by their f1/f3 address); move it out of ${this.dir}`,
      );
    }
    if (address.protocol !== 1 && address.protocol !== 3) {
      throw new KeystoreError("misnamed", `${file}: only f1 (secp256k1) and f3 (BLS) addresses have keys; move it out`);
    }
    if (address.network !== this.network) {
      throw new KeystoreError(
        "network",
        `key file ${file} is named for ${address.network} (${PREFIX[address.network]}…), but the keystore is opened for ${this.network}; open it for ${address.network} (util wallet --network ${address.network}) or rename the file to ${withNetwork(address, this.network).string}`,
      );
    }
    return address;
  }

  private render(address: Address | string): Address {
    return withNetwork(typeof address === "string" ? parseAddress(address) : address, this.network);
  }

  private fileOf(address: Address): string {
    return join(this.dir, address.string);
  }
}

/** The keystore of a manager home. */
export function openKeystore(home: string, network: Network): Keystore {
  return new Keystore(keystoreDir(home), network);
}

/**
 * A Lotus key info from text: its JSON, or the hex-encoded JSON that `lotus wallet export` prints.
 * `source` names where the text came from, for the error; the text itself is never quoted.
 */
export function parseKeyInfoText(text: string, source: string): LotusKeyInfo {
  const trimmed = text.trim();
  let jsonText = trimmed;
  if (!trimmed.startsWith("{")) {
    if (!/^(?:[0-9a-fA-F]{2})+$/.test(trimmed)) {
      throw new KeystoreError(
        "key-info",
        `${source} is neither key-info JSON ({"Type","PrivateKey"}) nor the hex that 'lotus wallet export' prints`,
      );
    }
    jsonText = Buffer.from(trimmed, "hex").toString("utf8");
  }
  let json: unknown;
  try {
    json = JSON.parse(jsonText);
  } catch {
    throw new KeystoreError("key-info", `${source} is not key-info JSON ({"Type","PrivateKey"}), plain or hex-encoded`);
  }
  const parsed = v.safeParse(LotusKeyInfoSchema, json);
  if (!parsed.success) throw new KeystoreError("key-info", `${source}: ${describeIssues(parsed.issues)}`);
  return parsed.output;
}

/** Names the fields at fault with the schema's own words, never the received values (they may be keys). */
function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  const fields = issues.map((issue) => {
    const path = issue.path?.map((item) => String(item.key)).join(".");
    if (path === "Type") return 'Type is "secp256k1" or "bls"';
    if (path === "PrivateKey") return "PrivateKey is the key's bytes in base64";
    return 'expected a JSON object {"Type": "secp256k1"|"bls", "PrivateKey": "<base64>"}';
  });
  return [...new Set(fields)].join("; ");
}

function modeText(path: string): string {
  return (statSync(path).mode & 0o777).toString(8).padStart(4, "0");
}

/** Makes a rename or a new entry in `dir` durable (POSIX needs the directory itself synced). */
function syncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePrivateKey, keyAddress, signBytes, toLotusKeyInfo, verifyBytes } from "./keys.ts";
import { KEYSTORE_DIR, Keystore, KeystoreError, openKeystore, parseKeyInfoText } from "./keystore.ts";

const root = mkdtempSync(join(tmpdir(), "damocles-keystore-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let homes = 0;
/** A fresh manager home (the keystore directory is made by the first write). */
const freshHome = (): string => {
  const home = join(root, `home-${homes++}`);
  mkdirSync(home);
  return home;
};

const mode = (path: string) => statSync(path).mode & 0o777;

/** Runs fn and returns the KeystoreError it throws. */
function refusal(fn: () => unknown): KeystoreError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(KeystoreError);
    return err as KeystoreError;
  }
  throw new Error("expected a KeystoreError, nothing was thrown");
}

describe("keystore round trips", () => {
  for (const type of ["secp256k1", "bls"] as const) {
    test(`${type}: create, list, get, sign with the stored key`, () => {
      const home = freshHome();
      const store = openKeystore(home, "mainnet");
      const address = store.create(type);
      expect(address.string.startsWith(type === "bls" ? "f3" : "f1")).toBe(true);
      expect(store.has(address)).toBe(true);
      expect(store.has(address.string)).toBe(true);

      const dir = join(home, KEYSTORE_DIR);
      const file = join(dir, address.string);
      expect(mode(dir)).toBe(0o700);
      expect(mode(file)).toBe(0o600);
      expect(readdirSync(dir)).toEqual([address.string]); // no temporary file left behind
      expect(JSON.parse(readFileSync(file, "utf8")).Type).toBe(type);

      expect(store.list().map((e) => [e.address.string, e.type, e.file])).toEqual([[address.string, type, file]]);
      const key = store.get(address.string);
      expect(keyAddress(key, "mainnet").string).toBe(address.string);
      const data = new TextEncoder().encode("message cid bytes");
      expect(verifyBytes(signBytes(key, data), data, address)).toBe(true);
    });

    test(`${type}: import of a Lotus key info, twice, is one file with the key's address`, () => {
      const home = freshHome();
      const store = openKeystore(home, "testnet");
      const key = generatePrivateKey(type);
      const info = toLotusKeyInfo(key);
      const first = store.import(info);
      expect(first.string).toBe(keyAddress(key, "testnet").string);
      expect(first.string[0]).toBe("t");
      expect(store.import({ ...info }).string).toBe(first.string);
      expect(readdirSync(join(home, KEYSTORE_DIR))).toEqual([first.string]);
      expect(store.get(first).bytes).toEqual(key.bytes);
      // The file is the Lotus key info itself, as `lotus wallet import` reads it.
      expect(JSON.parse(readFileSync(join(home, KEYSTORE_DIR, first.string), "utf8"))).toEqual(info);
    });
  }

  test("list is sorted and holds both types; an address of the other network finds the same key", () => {
    const store = openKeystore(freshHome(), "mainnet");
    const a = store.create("bls");
    const b = store.create("secp256k1");
    const c = store.create("secp256k1");
    expect(store.list().map((e) => e.address.string)).toEqual([a.string, b.string, c.string].sort());
    const asTestnet = `t${b.string.slice(1)}`;
    expect(store.has(asTestnet)).toBe(true);
    expect(store.get(asTestnet).bytes).toEqual(store.get(b).bytes);
  });

  test("an empty or absent keystore lists nothing; an unknown address is 'missing'", () => {
    const store = openKeystore(freshHome(), "mainnet");
    expect(store.list()).toEqual([]);
    const other = keyAddress(generatePrivateKey("secp256k1"), "mainnet");
    expect(store.has(other)).toBe(false);
    const err = refusal(() => store.get(other));
    expect(err.code).toBe("missing");
    expect(err.message).toContain(other.string);
  });
});

describe("keystore refusals", () => {
  test("a group-readable key file is refused, naming the file and chmod 600", () => {
    const store = openKeystore(freshHome(), "mainnet");
    const address = store.create("secp256k1");
    const file = join(store.dir, address.string);
    chmodSync(file, 0o640);
    const err = refusal(() => store.get(address));
    expect(err.code).toBe("unsafe-mode");
    expect(err.message).toContain(`chmod 600 ${file}`);
    expect(refusal(() => store.list()).code).toBe("unsafe-mode");
    chmodSync(file, 0o600);
    expect(store.get(address).type).toBe("secp256k1");
  });

  test("a keystore directory open to others is refused, naming chmod 700", () => {
    const store = openKeystore(freshHome(), "mainnet");
    const address = store.create("bls");
    chmodSync(store.dir, 0o755);
    const err = refusal(() => store.get(address));
    expect(err.code).toBe("unsafe-mode");
    expect(err.message).toContain(`chmod 700 ${store.dir}`);
    chmodSync(store.dir, 0o700);
  });

  test("a file under another key's address is refused, naming the address its key derives", () => {
    const store = openKeystore(freshHome(), "mainnet");
    const named = store.create("secp256k1");
    const other = generatePrivateKey("secp256k1");
    const file = join(store.dir, named.string);
    writeFileSync(file, JSON.stringify(toLotusKeyInfo(other)), { mode: 0o600 });
    const err = refusal(() => store.get(named));
    expect(err.code).toBe("misnamed");
    expect(err.message).toContain(file);
    expect(err.message).toContain(keyAddress(other, "mainnet").string);
    expect(refusal(() => store.list()).code).toBe("misnamed");
  });

  test("corrupt JSON is refused naming the file, without quoting its text", () => {
    const store = openKeystore(freshHome(), "mainnet");
    const address = store.create("secp256k1");
    const file = join(store.dir, address.string);
    const secret = "c2VjcmV0LWtleS1tYXRlcmlhbA";
    writeFileSync(file, `{"Type":"secp256k1","PrivateKey":"${secret}"`, { mode: 0o600 });
    const err = refusal(() => store.get(address));
    expect(err.code).toBe("corrupt");
    expect(err.message).toContain(file);
    expect(err.message).not.toContain(secret);
  });

  test("a key info with a bad field is refused naming the field, not its value", () => {
    const store = openKeystore(freshHome(), "mainnet");
    const address = store.create("bls");
    const file = join(store.dir, address.string);
    writeFileSync(file, JSON.stringify({ Type: "ed25519", PrivateKey: "AAAA" }), { mode: 0o600 });
    const err = refusal(() => store.get(address));
    expect(err.code).toBe("corrupt");
    expect(err.message).toContain(`key file ${file}: Type is "secp256k1" or "bls"`);
  });

  test("a key of the wrong length is refused", () => {
    const store = openKeystore(freshHome(), "mainnet");
    expect(
      refusal(() => store.import({ Type: "secp256k1", PrivateKey: Buffer.alloc(31, 1).toString("base64") })).code,
    ).toBe("key-info");
    expect(store.list()).toEqual([]);
  });

  test("a file that is not named by a key address, or named for the other network, is refused by list", () => {
    const home = freshHome();
    const store = openKeystore(home, "mainnet");
    store.create("secp256k1");
    writeFileSync(join(store.dir, "notes.txt"), "x", { mode: 0o600 });
    let err = refusal(() => store.list());
    expect(err.code).toBe("misnamed");
    expect(err.message).toContain(join(store.dir, "notes.txt"));
    rmSync(join(store.dir, "notes.txt"));

    const testnet = new Keystore(store.dir, "testnet");
    err = refusal(() => testnet.list());
    expect(err.code).toBe("network");
    expect(err.message).toContain("opened for testnet");
    // Leftovers of an interrupted write (dot files) are not keys and do not stop the listing.
    writeFileSync(join(store.dir, ".f1abc.123.tmp"), "", { mode: 0o600 });
    expect(store.list()).toHaveLength(1);
  });
});

describe("parseKeyInfoText", () => {
  const info = toLotusKeyInfo(generatePrivateKey("bls"));
  const json = JSON.stringify(info);

  test("reads plain JSON and the hex form 'lotus wallet export' prints", () => {
    expect(parseKeyInfoText(`${json}\n`, "stdin")).toEqual(info);
    expect(parseKeyInfoText(`${Buffer.from(json).toString("hex")}\n`, "key.hex")).toEqual(info);
  });

  test("refuses other text naming the source and never quoting it", () => {
    for (const text of ["not a key", "abc", "7b2254797065223a", '{"Type":"bls"}']) {
      const err = refusal(() => parseKeyInfoText(text, "my-key-file"));
      expect(err.code).toBe("key-info");
      expect(err.message).toContain("my-key-file");
      if (text.length > 3) expect(err.message).not.toContain(text);
    }
  });
});

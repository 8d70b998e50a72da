import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addressFromPublicKey } from "../../src/core/chain/address.ts";
import { generatePrivateKey, keyAddress, toLotusKeyInfo } from "../../src/core/chain/keys.ts";
import { runCli } from "../helpers/cli.ts";

const tmp = mkdtempSync(join(tmpdir(), "damocles-wallet-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const home = join(tmp, "home");
const wallet = (args: string[], stdin?: string) =>
  runCli(["util", "wallet", ...args, "--home", home, "--network", "testnet"], { stdin });

describe("util wallet", () => {
  test("new → list → export-public → import of a Lotus key info, raw and hex", async () => {
    const made = await wallet(["new"]);
    expect(made.stderr).toBe("");
    expect(made.code).toBe(0);
    const secp = made.stdout.trim();
    expect(secp).toMatch(/^t1[a-z2-7]{39}$/);
    const bls = (await wallet(["new", "bls"])).stdout.trim();
    expect(bls).toMatch(/^t3[a-z2-7]{84}$/);
    expect(statSync(join(home, "keystore", secp)).mode & 0o777).toBe(0o600);

    const list = await wallet(["list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${secp}\\s+secp256k1$`, "m"));
    expect(list.stdout).toMatch(new RegExp(`^${bls}\\s+bls$`, "m"));

    // The printed public key derives the address it was asked for.
    for (const [address, type] of [
      [secp, "secp256k1"],
      [bls, "bls"],
    ] as const) {
      const pub = await wallet(["export-public", address]);
      expect(pub.code).toBe(0);
      const bytes = Buffer.from(pub.stdout.trim(), "hex");
      expect(bytes.length).toBe(type === "bls" ? 48 : 65);
      expect(addressFromPublicKey(bytes, type, "testnet").string).toBe(address);
    }

    // Raw JSON from a file, and the hex-encoded JSON `lotus wallet export` prints, from stdin.
    const rawKey = generatePrivateKey("bls");
    const rawFile = join(tmp, "key.json");
    writeFileSync(rawFile, JSON.stringify(toLotusKeyInfo(rawKey)));
    const rawImport = await wallet(["import", rawFile]);
    expect(rawImport.code).toBe(0);
    expect(rawImport.stdout.trim()).toBe(`imported ${keyAddress(rawKey, "testnet").string}`);

    const hexKey = generatePrivateKey("secp256k1");
    const hex = Buffer.from(JSON.stringify(toLotusKeyInfo(hexKey))).toString("hex");
    const hexImport = await wallet(["import", "-"], `${hex}\n`);
    expect(hexImport.code).toBe(0);
    expect(hexImport.stdout.trim()).toBe(`imported ${keyAddress(hexKey, "testnet").string}`);
    // Again: the same key, nothing new.
    expect((await wallet(["import"], hex)).stdout.trim()).toBe(`imported ${keyAddress(hexKey, "testnet").string}`);

    const after = await wallet(["list"]);
    expect(after.stdout.trim().split("\n")).toHaveLength(1 + 4); // header + four keys
  });

  test("refusals are one line naming the fix, and never print key material", async () => {
    const key = toLotusKeyInfo(generatePrivateKey("secp256k1"));
    const bad = await wallet(["import"], JSON.stringify({ ...key, Type: "ed25519" }));
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('stdin: Type is "secp256k1" or "bls"');
    expect(bad.stderr).not.toContain(key.PrivateKey);

    const network = await runCli(["util", "wallet", "list", "--home", home, "--network", "devnet"]);
    expect(network.code).toBe(2);
    expect(network.stderr).toContain('--network: expected mainnet or testnet, got "devnet"');

    const missing = await wallet(["export-public", keyAddress(generatePrivateKey("bls"), "testnet").string]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no key for t3");
  });
});

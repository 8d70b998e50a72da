import { readFileSync } from "node:fs";
import * as v from "valibot";
import { type Network, parseAddress } from "../core/chain/address.ts";
import { ChainCodecError } from "../core/chain/errors.ts";
import { publicKeyOf } from "../core/chain/keys.ts";
import { type Keystore, KeystoreError, openKeystore, parseKeyInfoText } from "../core/chain/keystore.ts";
import { CliError, command } from "../core/cli/command.ts";
import { renderTable } from "../core/cli/table.ts";
import { resolveManagerHome } from "../core/config/manager-home.ts";

/**
 * `util wallet`: the manager's own keys in <home>/keystore/ (core/chain/keystore.ts), made here or imported
 * from Lotus. Works on the files directly (the manager may be down); prints addresses and public keys,
 * never a private key.
 */

const NetworkSchema = v.picklist(["mainnet", "testnet"]);
const KeyTypeSchema = v.picklist(["secp256k1", "bls"]);

const walletArgs = {
  home: {
    type: "string",
    description: "manager home whose keystore/ holds the keys (default ~/.damocles-manager; env DAMOCLES_PATH)",
  },
  network: {
    type: "string",
    description: "mainnet (f1…/f3… addresses) or testnet (t1…/t3…)",
    default: "mainnet",
  },
} as const;

function parseNetwork(text: string): Network {
  const parsed = v.safeParse(NetworkSchema, text);
  if (!parsed.success) throw new CliError(`--network: expected mainnet or testnet, got "${text}"`, 2);
  return parsed.output;
}

/** Runs fn on the home's keystore; keystore and address refusals become one operator line. */
function withKeystore<T>(args: { home?: string; network: string }, fn: (store: Keystore) => T): T {
  const store = openKeystore(resolveManagerHome(args.home), parseNetwork(args.network));
  try {
    return fn(store);
  } catch (err) {
    if (err instanceof KeystoreError) throw new CliError(err.message);
    if (err instanceof ChainCodecError) throw new CliError(err.message, 2);
    throw err;
  }
}

const newCommand = command({
  meta: { name: "new", description: "Make a new key in the manager's keystore and print its address" },
  args: {
    ...walletArgs,
    type: { type: "positional", description: "key type: secp256k1 (f1…, the default) or bls (f3…)", required: false },
  },
  examples: ["damocles util wallet new", "damocles util wallet new bls --network testnet"],
  run({ args }) {
    const text = args.type ?? "secp256k1";
    const type = v.safeParse(KeyTypeSchema, text);
    if (!type.success) throw new CliError(`type: expected secp256k1 or bls, got "${text}"`, 2);
    const address = withKeystore(args, (store) => store.create(type.output));
    process.stdout.write(`${address.string}\n`);
  },
});

const importCommand = command({
  meta: {
    name: "import",
    description:
      "Import a key from Lotus key-info JSON or the hex that 'lotus wallet export' prints; prints its address",
  },
  args: {
    ...walletArgs,
    file: { type: "positional", description: "the key-info file; - or nothing reads stdin", required: false },
  },
  examples: [
    "lotus wallet export f1abc… | damocles util wallet import",
    "damocles util wallet import key.json --network testnet",
  ],
  run({ args }) {
    const fromStdin = args.file === undefined || args.file === "-";
    const source = fromStdin ? "stdin" : (args.file as string);
    let text: string;
    try {
      text = readFileSync(fromStdin ? 0 : source, "utf8");
    } catch (err) {
      throw new CliError(`cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const address = withKeystore(args, (store) => store.import(parseKeyInfoText(text, source)));
    process.stdout.write(`imported ${address.string}\n`);
  },
});

const listCommand = command({
  meta: { name: "list", description: "The keys in the manager's keystore: address and type" },
  args: { ...walletArgs },
  examples: ["damocles util wallet list", "damocles util wallet list --home /srv/damocles --network testnet"],
  run({ args }) {
    const entries = withKeystore(args, (store) => store.list());
    if (entries.length === 0) {
      process.stdout.write("no keys; make one with: damocles util wallet new\n");
      return;
    }
    process.stdout.write(
      renderTable(
        ["Address", "Type"],
        entries.map((e) => [e.address.string, e.type]),
      ),
    );
  },
});

const exportPublicCommand = command({
  meta: { name: "export-public", description: "Print the public key (hex) of a key in the keystore" },
  args: {
    ...walletArgs,
    address: { type: "positional", description: "the key's f1/f3 (or t1/t3) address", required: true },
  },
  examples: ["damocles util wallet export-public f1abc…"],
  run({ args }) {
    const publicKey = withKeystore(args, (store) => publicKeyOf(store.get(parseAddress(args.address))));
    process.stdout.write(`${Buffer.from(publicKey).toString("hex")}\n`);
  },
});

export const walletCommand = command({
  meta: { name: "wallet", description: "The manager's own signing keys (<home>/keystore/, Lotus key-info files)" },
  subCommands: { new: newCommand, import: importCommand, list: listCommand, "export-public": exportPublicCommand },
  examples: ["damocles util wallet new", "damocles util wallet list", "damocles util wallet import key.hex"],
});

import { join } from "node:path";
import { ensureAuth, secretAuthenticator } from "../../core/auth/index.ts";
import { adminTokenPath } from "../../core/auth/secret.ts";
import { MANAGER_DB_FILE } from "../../core/config/manager-home.ts";
import { childLogger } from "../../core/log/index.ts";
import { KVStore } from "../../core/store/index.ts";
import { DevnetChain } from "../chain.ts";
import type { DevnetConfig } from "../config.ts";
import { type PresealManifest, presealSectors, readPresealManifest } from "../preseal.ts";
import { loadPoStVerifier, loadProofsVerifier, loadUpdateVerifier, proofsCommDCalculator } from "../proofs-verifier.ts";
import { registerDevnetMessageApi } from "../rpc/messages.ts";
import { type DevnetRegistrar, devnetRpc, serveDevnet } from "../rpc/server.ts";
import {
  acceptAllPoStVerifier,
  acceptAllUpdateVerifier,
  acceptAllVerifier,
  type PoStVerifier,
  type SealVerifier,
  type UpdateVerifier,
} from "../verifier.ts";

const log = childLogger("devnet");

/**
 * The standalone devnet node (`damocles devnet run`): the chain in <home>/damocles.db (the manager's store
 * layout), tokens from <home>/auth-secret, the node API at /rpc/v1. Each step that succeeded is undone, the
 * last first, on stop and when a later step fails.
 */

export interface DevnetNodeOptions {
  home: string;
  settings: DevnetConfig;
  hostname: string;
  port: number;
  /** More methods on the node (the message API); the state API is always there. */
  registrars?: DevnetRegistrar[];
  /** Tests: verifiers instead of the proofs library's (InsecureSkipProofVerification picks accept-all ones). */
  verifiers?: { seal: SealVerifier; post: PoStVerifier; update: UpdateVerifier };
  now?: () => number;
}

export interface RunningDevnetNode {
  chain: DevnetChain;
  /** Base URL; the API is at `${url}/rpc/v1`. */
  url: string;
  port: number;
  /** The admin token's file (0600). */
  tokenFile: string;
  stop(): Promise<void>;
}

async function verifiersFor(settings: DevnetConfig) {
  if (settings.InsecureSkipProofVerification) {
    log.warn("InsecureSkipProofVerification = true: proofs are NOT verified. Use it for load tests only.");
    return { seal: acceptAllVerifier, post: acceptAllPoStVerifier, update: acceptAllUpdateVerifier };
  }
  return { seal: await loadProofsVerifier(), post: await loadPoStVerifier(), update: await loadUpdateVerifier() };
}

export async function startDevnetNode(opts: DevnetNodeOptions): Promise<RunningDevnetNode> {
  const undo: (() => void | Promise<void>)[] = [];
  const stop = async () => {
    for (let step = undo.pop(); step; step = undo.pop()) await step();
  };
  try {
    const auth = await ensureAuth(opts.home);
    for (const file of auth.created) log.info(`created ${file} (mode 0600)`);
    const { settings } = opts;
    const verifiers = opts.verifiers ?? (await verifiersFor(settings));
    const manifests: PresealManifest[] = settings.Miners.filter((m) => m.PreSealed).map((m) =>
      readPresealManifest(m.PreSealed!, m.Actor),
    );
    const store = KVStore.open(join(opts.home, MANAGER_DB_FILE));
    undo.push(() => store.close());
    const chain = new DevnetChain({
      store,
      settings,
      verifier: verifiers.seal,
      postVerifier: verifiers.post,
      updateVerifier: verifiers.update,
      commD: proofsCommDCalculator(),
      preseal: manifests.flatMap(presealSectors),
      miners: settings.Miners.map((m) => ({ actor: m.Actor, sectorSize: m.SectorSize, worker: m.Worker })),
      now: opts.now,
    });
    undo.push(() => chain.close());
    const workerOf = (actor: number) => {
      try {
        return chain.minerWorker(actor);
      } catch {
        return undefined;
      }
    };
    const rpc = devnetRpc(chain, {
      store,
      workerOf,
      auth: secretAuthenticator(auth.secret),
      registrars: opts.registrars ?? [registerDevnetMessageApi],
    });
    await chain.tick();
    chain.start();
    const server = serveDevnet(rpc, { hostname: opts.hostname, port: opts.port });
    undo.push(() => server.stop());
    const port = server.server.port ?? opts.port;
    const tokenFile = adminTokenPath(opts.home);
    log.info(`devnet node API at ${server.url}/rpc/v1 (token: ${tokenFile})`);
    return { chain, url: server.url, port, tokenFile, stop };
  } catch (err) {
    await stop().catch((cleanup) => log.warn("cleaning up after a failed start also failed:", cleanup));
    throw err;
  }
}

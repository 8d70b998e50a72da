import { join } from "node:path";
import { Hono } from "hono";
import { Auth, type Authenticator, createToken, TokenError } from "../core/auth/index.ts";
import type { ManagerConfig } from "../core/config/index.ts";
import { MANAGER_DB_FILE } from "../core/config/manager-home.ts";
import { childLogger } from "../core/log/index.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../core/metrics/index.ts";
import { mountRpc, RpcError, RpcErrorCode, RpcRegistry, serve } from "../core/rpc/index.ts";
import type { PoStChain } from "../core/sector/chain.ts";
import { KVStore } from "../core/store/index.ts";
import { VERSION } from "../core/version.ts";
import { ManagerMetrics } from "./metrics.ts";
import { createProvingModule, type ProvingFlags, type ProvingModule } from "./proving.ts";
import type { SectorLocator, StorePaths } from "./stores/locate.ts";

/**
 * The HTTP shell both manager nodes share (the devnet manager in daemon.ts, the proxy node in proxy/node.ts):
 * store, metrics, the RPC registry, the proving module, /healthcheck, /metrics and /rpc/v0 on one Bun.serve,
 * started in one order. Every step that succeeded is undone, the last first, on stop and when a later
 * step throws, so a failed start leaves no store, timer, child process or listener behind.
 */

const log = childLogger("manager");

/** What both nodes take: where they live and serve, their config, and which proving they do. */
export interface NodeOptions {
  home: string;
  config: ManagerConfig;
  hostname: string;
  port: number;
  /** --poster, --miner, --worker-prover, --ext-prover, --warmup. */
  proving?: ProvingFlags;
  /** Where sector-manager.cfg / ext-prover.cfg were read from (default: home). */
  confDir?: string;
  now?: () => number;
  /** Who may call what: the node's secret (for AuthNew) and how requests are checked (`--no-auth`: open). */
  auth: NodeAuth;
}

export interface NodeAuth {
  authenticator: Authenticator;
  secret: Uint8Array;
}

/** What the shell hands a node's setup. */
export interface NodeParts {
  readonly metrics: ManagerMetrics;
  /** The node's RPC methods go here; the proving module adds Damocles.Proving* (and Venus.WdPoSt*). */
  readonly registry: RpcRegistry;
  /** Opens <home>/damocles.db (once); it is closed with the rest. */
  openStore(): KVStore;
  /** Registers how to undo a step that just succeeded. */
  onStop(undo: () => void | Promise<void>): void;
}

/** What a node adds to the shell. */
export interface NodeRole {
  /** The chain the node proves against, and where it finds the sectors to prove. */
  chain: PoStChain;
  locator: SectorLocator;
  storePaths: StorePaths;
  /** Adds the node's own HTTP routes (the manager's /piecestore/) beside /rpc/v0, checked with `auth`. */
  mount?(app: Hono, auth: Authenticator): void;
  /** Runs once the proving module exists, before it starts and before the server listens. */
  start?(proving: ProvingModule): Promise<void>;
  /** Runs once the server listens at `url`: says so in the log. */
  serving(url: string, proving: ProvingModule): void;
}

export interface RunningNode {
  url: string;
  port: number;
  registry: RpcRegistry;
  store: KVStore;
  proving: ProvingModule;
  /** Undoes every start step, the last first. */
  stop(): Promise<void>;
}

/**
 * Starts a node: `setup` opens the store and builds the node's own services on `parts`; then the proving
 * module, the node's start steps, proving, the server. Resolves with the running node and what setup returned.
 */
export async function startNode<R extends NodeRole>(
  opts: NodeOptions,
  setup: (parts: NodeParts) => Promise<R>,
): Promise<{ node: RunningNode; role: R }> {
  const undo = new UndoStack();
  const metrics = new ManagerMetrics(VERSION);
  const registry = new RpcRegistry();
  let store: KVStore | undefined;
  const parts: NodeParts = {
    metrics,
    registry,
    openStore() {
      if (store) return store;
      const opened = KVStore.open(join(opts.home, MANAGER_DB_FILE));
      store = opened;
      undo.push(() => opened.close());
      return opened;
    },
    onStop: (step) => undo.push(step),
  };

  try {
    const role = await setup(parts);
    const nodeStore = parts.openStore(); // the one setup opened (setup chooses when: a proxy connects first)
    const proving = await createProvingModule({
      flags: opts.proving ?? {},
      config: opts.config,
      confDir: opts.confDir ?? opts.home,
      chain: role.chain,
      store: nodeStore,
      registry,
      metrics: metrics.registry,
      locator: role.locator,
      storePaths: role.storePaths,
      now: opts.now,
    });
    // Undone even if it never started: building it may already have spawned ext-prover children.
    undo.push(() => proving.stop());
    registry.observe((method, ms, ok) => metrics.observeCall(method, ms, ok));

    const app = new Hono();
    app.get("/healthcheck", (c) => c.text("ok\n"));
    app.get("/metrics", (c) => c.body(metrics.registry.render(), 200, { "content-type": PROMETHEUS_CONTENT_TYPE }));
    role.mount?.(app, opts.auth.authenticator);
    implementAuthApi(registry, opts.auth);
    mountRpc(app, registry, opts.auth.authenticator);

    await role.start?.(proving);
    await proving.start();
    const server = serve({
      app,
      registry,
      auth: opts.auth.authenticator,
      hostname: opts.hostname,
      port: opts.port,
    });
    undo.push(() => server.stop());
    role.serving(server.url, proving);
    metrics.apiState.set(1);
    undo.push(() => metrics.apiState.set(0));

    return {
      node: {
        url: server.url,
        port: server.server.port ?? opts.port,
        registry,
        store: nodeStore,
        proving,
        stop: () => undo.run(),
      },
      role,
    };
  } catch (err) {
    await undo.run().catch((cleanupErr) => log.warn("cleaning up after a failed start also failed:", cleanupErr));
    throw err;
  }
}

/** Venus.AuthVerify (workers check the tokens sent to them with it) and Venus.AuthNew. */
function implementAuthApi(registry: RpcRegistry, auth: NodeAuth): void {
  registry
    .implement(Auth.AuthVerify, async (token) => {
      try {
        return [...(await auth.authenticator.authenticate(token)).perms];
      } catch (err) {
        if (err instanceof TokenError) throw new RpcError(RpcErrorCode.Unauthorized, `invalid token: ${err.message}`);
        throw err;
      }
    })
    .implement(Auth.AuthNew, (name, perm) => createToken(auth.secret, { name, perm }));
}

/** Undo steps, run the last first. Each runs once; one that throws does not keep the others from running. */
class UndoStack {
  private readonly steps: (() => void | Promise<void>)[] = [];

  push(step: () => void | Promise<void>): void {
    this.steps.push(step);
  }

  /** Runs every step, then rejects with the first error if any step threw. */
  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

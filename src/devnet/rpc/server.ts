import { Hono } from "hono";
import type { Authenticator } from "../../core/auth/index.ts";
import { LOTUS_RPC_PATH } from "../../core/chain/lotus-api.ts";
import { mountRpc, RpcRegistry, type RunningServer, serve } from "../../core/rpc/server.ts";
import type { DevnetChain } from "../chain.ts";
import { type DevnetStateDeps, registerDevnetStateApi } from "./state.ts";

/**
 * The devnet as a node: the Filecoin node API (the contract of core/chain/lotus-api.ts) at /rpc/v1, like
 * Lotus, over HTTP POST and websocket, every call checked by an authenticator. The state side is built in;
 * the message side (and anything else) comes in as registrars, so each half is written and tested alone.
 */

/** Adds methods to the devnet's registry (e.g. the message API's registerDevnetMessageApi). */
export type DevnetRegistrar = (registry: RpcRegistry, devnet: DevnetChain) => void;

export interface DevnetRpcOptions extends DevnetStateDeps {
  /** How a request's token becomes permissions (core/auth: secretAuthenticator, or openAuthenticator). */
  auth: Authenticator;
  registrars?: DevnetRegistrar[];
}

export interface DevnetRpc {
  registry: RpcRegistry;
  /** /rpc/v1 (POST) and /healthcheck. */
  app: Hono;
  auth: Authenticator;
  /** The app in-process: hand it to an RpcClient (ClientOptions.fetch) to call the devnet without a socket. */
  fetch(req: Request): Promise<Response>;
}

export function devnetRpc(devnet: DevnetChain, opts: DevnetRpcOptions): DevnetRpc {
  const registry = new RpcRegistry();
  registerDevnetStateApi(registry, devnet, { store: opts.store, workerOf: opts.workerOf });
  for (const register of opts.registrars ?? []) register(registry, devnet);
  const app = new Hono();
  app.get("/healthcheck", (c) => c.text("ok\n"));
  mountRpc(app, registry, opts.auth, LOTUS_RPC_PATH);
  return { registry, app, auth: opts.auth, fetch: async (req) => app.fetch(req) };
}

/** Listens on host:port (port 0: any free one); websocket upgrades on /rpc/v1 carry their token once. */
export function serveDevnet(rpc: DevnetRpc, listen: { hostname: string; port: number }): RunningServer {
  return serve({
    app: rpc.app,
    registry: rpc.registry,
    auth: rpc.auth,
    hostname: listen.hostname,
    port: listen.port,
    path: LOTUS_RPC_PATH,
  });
}

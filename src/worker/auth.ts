import { Auth, type Authenticator, type Grant, OPEN_ACCESS, PERMS, TokenError } from "../core/auth/index.ts";
import { RpcCallError, type RpcClient, RpcErrorCode, RpcTransportError } from "../core/rpc/index.ts";

/** The part of a worker config (loaded or raw file) that says how it authenticates to the manager. */
interface ManagerCredentials {
  sector_manager: { rpc_client: { headers?: Record<string, string> }; token?: string };
}

/**
 * The worker's credentials and how its own RPC checks callers.
 *
 * A worker holds no secret: tokens sent to its VenusWorker API are the manager's, so the manager says what
 * each may do (Venus.AuthVerify, as lotus-worker asks its miner), remembered for a few minutes. The
 * worker's own configured token is the exception: whoever holds this worker's credential operates this
 * worker (pause, resume, env), so it gets every permission here — that keeps seed 004's
 * `damocles worker -c worker.toml pause …` working on the worker's host without another token.
 */

/** The token the worker sends to the manager: an Authorization in rpc_client.headers wins over `token`. */
export function workerToken(cfg: ManagerCredentials): string | undefined {
  const headers = cfg.sector_manager.rpc_client.headers ?? {};
  const auth = Object.entries(headers).find(([k]) => k.toLowerCase() === "authorization")?.[1];
  if (auth) return /^bearer\s+(.+)$/i.exec(auth.trim())?.[1]?.trim() ?? auth.trim();
  return cfg.sector_manager.token;
}

/** The headers of every manager request: the configured ones plus the token, if headers do not carry one. */
export function managerHeaders(cfg: ManagerCredentials): Record<string, string> {
  const headers = { ...(cfg.sector_manager.rpc_client.headers ?? {}) };
  const hasAuth = Object.keys(headers).some((k) => k.toLowerCase() === "authorization");
  if (!hasAuth && cfg.sector_manager.token) headers.Authorization = `Bearer ${cfg.sector_manager.token}`;
  return headers;
}

/** Why the worker cannot seal with its credentials, checked before any thread starts; undefined when it can. */
export async function checkManagerAccess(manager: RpcClient, own: string | undefined): Promise<string | undefined> {
  const fix = `create a token on the manager ('damocles util auth create-token --perm write --name <worker>') and set sector_manager.token`;
  try {
    const perms = await manager.call(Auth.AuthVerify, own ?? "");
    if (perms.includes("write")) return undefined;
    return own
      ? `the manager accepts sector_manager.token but it lacks write permission (it has ${perms.join(", ") || "none"}): ${fix}`
      : `the manager requires a token: ${fix}`;
  } catch (err) {
    if (err instanceof RpcCallError && err.code === RpcErrorCode.Unauthorized) {
      return own
        ? `the manager refused sector_manager.token (${err.rpcMessage}): ${fix}`
        : `the manager requires a token: ${fix}`;
    }
    if (err instanceof RpcCallError && err.code === RpcErrorCode.MethodNotFound) return undefined; // an original manager: no auth
    throw err;
  }
}

const REMEMBER_MS = 5 * 60_000;

export function managerVerifiedAuth(manager: RpcClient, own: string | undefined): Authenticator {
  const known = new Map<string, { grant: Grant; until: number }>();
  return {
    mode: "token",
    async authenticate(token) {
      const key = token ?? "";
      if (own && key === own) return OPEN_ACCESS;
      const hit = known.get(key);
      if (hit && hit.until > Date.now()) return hit.grant;
      let perms: string[];
      try {
        perms = await manager.call(Auth.AuthVerify, key);
      } catch (err) {
        if (err instanceof RpcCallError && err.code === RpcErrorCode.Unauthorized) {
          throw new TokenError("signature", "the sector manager does not accept this token");
        }
        // A manager without Venus.AuthVerify (the original's) checks no tokens: neither does its worker.
        if (err instanceof RpcCallError && err.code === RpcErrorCode.MethodNotFound) return OPEN_ACCESS;
        if (err instanceof RpcTransportError) {
          throw new TokenError("unverified", "the sector manager, which checks this worker's tokens, is unreachable");
        }
        throw err;
      }
      const grant: Grant = {
        name: key ? "manager token" : "anonymous",
        perms: new Set(PERMS.filter((p) => perms.includes(p))),
      };
      if (known.size > 1024) known.clear();
      known.set(key, { grant, until: Date.now() + REMEMBER_MS });
      return grant;
    },
  };
}

import type { Server, ServerWebSocket } from "bun";
import type { Hono } from "hono";
import { type Authenticator, requestToken } from "../auth/authenticator.ts";
import { ANONYMOUS, type Grant } from "../auth/grant.ts";
import { strongest } from "../auth/perm.ts";
import { TokenError } from "../auth/token.ts";
import { childLogger } from "../log/index.ts";
import { RpcError, RpcErrorCode } from "./errors.ts";
import { type HandlerArgs, type MethodDef, type ParamList, validateParams } from "./method.ts";

const log = childLogger("rpc");

type Id = string | number | null;

export interface RpcResponse {
  jsonrpc: "2.0";
  id: Id;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

type AnyHandler = (...args: never[]) => unknown;

interface Registered {
  def: MethodDef;
  handler: AnyHandler;
}

/** Observes every dispatched call (metrics). ok=false for any error answer. */
export type CallObserver = (method: string, durationMs: number, ok: boolean) => void;

/**
 * Method registry and dispatcher, independent of transport: feed it request text, get response text.
 * A handler's throw never escapes: RpcError keeps its code, anything else is -32603 and is logged.
 */
export class RpcRegistry {
  private readonly methods = new Map<string, Registered>();
  private readonly observers: CallObserver[] = [];

  implement<P extends ParamList, R extends MethodDef["result"]>(
    def: MethodDef<P, R>,
    handler: (...args: HandlerArgs<P>) => unknown,
  ): this {
    if (this.methods.has(def.name)) throw new Error(`RPC method ${def.name} is registered twice`);
    this.methods.set(def.name, { def: def as unknown as MethodDef, handler: handler as unknown as AnyHandler });
    return this;
  }

  has(name: string): boolean {
    return this.methods.has(name);
  }

  names(): string[] {
    return [...this.methods.keys()].sort();
  }

  /** The description of a registered method (its params, result and permission). */
  describe(name: string): MethodDef | undefined {
    return this.methods.get(name)?.def;
  }

  observe(observer: CallObserver): void {
    this.observers.push(observer);
  }

  /**
   * Handles one HTTP body or websocket frame for a caller holding `grant`; undefined when nothing must be
   * answered (notifications).
   */
  async handleText(text: string, grant: Grant = ANONYMOUS): Promise<string | undefined> {
    const answer = await this.answer(text, grant);
    return answer === undefined ? undefined : JSON.stringify(answer);
  }

  /** handleText before serialization: one response, a batch of them, or nothing. */
  async answer(text: string, grant: Grant = ANONYMOUS): Promise<RpcResponse | RpcResponse[] | undefined> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      return errorResponse(null, RpcErrorCode.ParseError, `parse error: ${(err as Error).message}`);
    }
    if (Array.isArray(parsed)) {
      if (parsed.length === 0) return errorResponse(null, RpcErrorCode.InvalidRequest, "invalid request: empty batch");
      const answers = (await Promise.all(parsed.map((r) => this.handleRequest(r, grant)))).filter(
        (a) => a !== undefined,
      );
      return answers.length === 0 ? undefined : answers;
    }
    return this.handleRequest(parsed, grant);
  }

  async handleRequest(req: unknown, grant: Grant = ANONYMOUS): Promise<RpcResponse | undefined> {
    if (typeof req !== "object" || req === null || Array.isArray(req)) {
      return errorResponse(
        null,
        RpcErrorCode.InvalidRequest,
        "invalid request: expected a JSON-RPC 2.0 request object",
      );
    }
    const r = req as Record<string, unknown>;
    const hasId = "id" in r;
    const id = r.id;
    if (hasId && id !== null && typeof id !== "string" && typeof id !== "number") {
      return errorResponse(null, RpcErrorCode.InvalidRequest, "invalid request: id must be a string, a number or null");
    }
    const rid = (hasId ? id : null) as Id;
    if (r.jsonrpc !== undefined && r.jsonrpc !== "2.0") {
      return errorResponse(
        rid,
        RpcErrorCode.InvalidRequest,
        `invalid request: jsonrpc must be "2.0", got ${JSON.stringify(r.jsonrpc)}`,
      );
    }
    if (typeof r.method !== "string" || r.method === "") {
      return errorResponse(rid, RpcErrorCode.InvalidRequest, "invalid request: method must be a non-empty string");
    }
    const method = r.method;
    const answer = await this.dispatch(rid, method, r.params, grant);
    return hasId ? answer : undefined;
  }

  private async dispatch(id: Id, method: string, params: unknown, grant: Grant): Promise<RpcResponse> {
    const started = performance.now();
    const reg = this.methods.get(method);
    if (!reg) {
      return errorResponse(id, RpcErrorCode.MethodNotFound, `method '${method}' not found`);
    }
    const denied = permissionDenied(reg.def, grant);
    if (denied) return errorResponse(id, denied.code, denied.message);
    let ok = false;
    try {
      if (params !== undefined && params !== null && !Array.isArray(params)) {
        return errorResponse(
          id,
          RpcErrorCode.InvalidParams,
          `invalid params of ${method}: params must be a positional array`,
        );
      }
      const checked = validateParams(reg.def, (params as unknown[] | undefined) ?? []);
      if (!checked.ok) return errorResponse(id, RpcErrorCode.InvalidParams, checked.message);
      const result = await reg.handler(...(checked.values as never[]));
      ok = true;
      return { jsonrpc: "2.0", id, result: result === undefined ? null : result };
    } catch (err) {
      if (err instanceof RpcError) {
        return errorResponse(id, err.code, err.message, err.data);
      }
      log.error(`${method} failed:`, err);
      return errorResponse(
        id,
        RpcErrorCode.Internal,
        `internal error in ${method}: ${(err as Error)?.message ?? String(err)}`,
      );
    } finally {
      const ms = performance.now() - started;
      for (const o of this.observers) o(method, ms, ok);
    }
  }
}

/** Why `grant` may not call `def`, or undefined when it may. Runs before params are even read. */
function permissionDenied(def: MethodDef, grant: Grant): { code: number; message: string } | undefined {
  if (grant.perms.has(def.perm)) return undefined;
  const fix = `create one with 'damocles util auth create-token --perm ${def.perm}' on the manager`;
  if (grant.perms.size === 0) {
    return {
      code: RpcErrorCode.Unauthorized,
      message: `${def.name} needs a token with '${def.perm}' permission and the request carried none: send "Authorization: Bearer <token>" (${fix})`,
    };
  }
  return {
    code: RpcErrorCode.Forbidden,
    message: `${def.name} needs '${def.perm}' permission; token '${grant.name}' has only '${strongest(grant.perms)}' (${fix})`,
  };
}

function errorResponse(id: Id, code: number, message: string, data?: unknown): RpcResponse {
  return { jsonrpc: "2.0", id, error: data === undefined ? { code, message } : { code, message, data } };
}

export const RPC_PATH = "/rpc/v0";

/**
 * The caller's grant, or the answer that refuses the whole request: a token that is present but does not
 * verify is HTTP 401 and nothing runs (a forged token must not even reach the methods that need none).
 */
export async function authenticateRequest(
  auth: Authenticator,
  req: Request,
): Promise<{ grant: Grant } | { refusal: Response }> {
  try {
    return { grant: await auth.authenticate(requestToken(req)) };
  } catch (err) {
    if (!(err instanceof TokenError)) throw err;
    const body = errorResponse(
      null,
      RpcErrorCode.Unauthorized,
      `invalid token: ${err.message}; create one with 'damocles util auth create-token --perm <read|write|sign|admin>' on the manager`,
    );
    return { refusal: Response.json(body, { status: 401 }) };
  }
}

/**
 * Mounts POST <path> on a hono app. HTTP 200 with a JSON-RPC body (clients read codes from it), except
 * 401 for a refused token or a single call refused for want of one.
 */
export function mountRpc(app: Hono, registry: RpcRegistry, auth: Authenticator, path = RPC_PATH): Hono {
  app.post(path, async (c) => {
    const who = await authenticateRequest(auth, c.req.raw);
    if ("refusal" in who) return who.refusal;
    const text = await c.req.text();
    const answer = await registry.answer(text, who.grant);
    if (answer === undefined) return c.body(null, 204);
    const refused = !Array.isArray(answer) && answer.error?.code === RpcErrorCode.Unauthorized;
    return c.body(JSON.stringify(answer), refused ? 401 : 200, { "content-type": "application/json" });
  });
  return app;
}

export interface ServeOptions {
  app: Hono;
  registry: RpcRegistry;
  /** Checks the token of each websocket upgrade, as mountRpc does for each POST. */
  auth: Authenticator;
  hostname: string;
  port: number;
  path?: string;
}

/** A websocket connection remembers who opened it: its token is checked once, at the upgrade. */
export interface WsSession {
  grant: Grant;
}

export interface RunningServer {
  server: Server<WsSession>;
  /** Base URL, e.g. http://127.0.0.1:1789 */
  url: string;
  stop(): Promise<void>;
}

/**
 * Serves the hono app on Bun.serve and upgrades websocket requests on the RPC path. Websocket frames are
 * dispatched concurrently; each answer goes back on the same socket as soon as it is ready.
 */
export function serve(opts: ServeOptions): RunningServer {
  const path = opts.path ?? RPC_PATH;
  const server = Bun.serve<WsSession>({
    hostname: opts.hostname,
    port: opts.port,
    maxRequestBodySize: 16 * 1024 * 1024,
    async fetch(req, srv) {
      if (req.headers.get("upgrade")?.toLowerCase() === "websocket" && new URL(req.url).pathname === path) {
        const who = await authenticateRequest(opts.auth, req);
        if ("refusal" in who) return who.refusal;
        if (srv.upgrade(req, { data: { grant: who.grant } })) return undefined;
        return new Response("websocket upgrade failed", { status: 400 });
      }
      return opts.app.fetch(req, srv);
    },
    websocket: {
      maxPayloadLength: 16 * 1024 * 1024,
      message(ws: ServerWebSocket<WsSession>, message) {
        const text = typeof message === "string" ? message : new TextDecoder().decode(message);
        void opts.registry.handleText(text, ws.data.grant).then((answer) => {
          if (answer !== undefined && ws.readyState === 1) ws.send(answer);
        });
      },
    },
    error(err) {
      log.error("http server error:", err);
      return new Response("internal error", { status: 500 });
    },
  });
  const host = opts.hostname === "0.0.0.0" || opts.hostname === "::" ? "127.0.0.1" : opts.hostname;
  return {
    server,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${server.port}`,
    async stop() {
      await server.stop(true);
    },
  };
}

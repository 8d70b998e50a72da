/**
 * Secure RPC: the manager's API refuses every call that needs a permission the caller's token lacks,
 * before anything runs; a forged token is refused outright (HTTP 401), over HTTP and over websockets.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Hono } from "hono";
import * as v from "valibot";
import { createToken, secretAuthenticator } from "../../src/core/auth/index.ts";
import {
  defineMethod,
  mountRpc,
  RpcErrorCode,
  RpcRegistry,
  type RunningServer,
  serve,
} from "../../src/core/rpc/index.ts";
import { Venus } from "../../src/core/sector/api.ts";
import { COLLECTIONS } from "../../src/core/store/index.ts";
import { startTestManager, type TestManager } from "../manager/fixture.ts";

const secret = crypto.getRandomValues(new Uint8Array(32));
const forgedSecret = crypto.getRandomValues(new Uint8Array(32));

describe("tokens on a JSON-RPC server", () => {
  const Read = defineMethod("T.Read", [] as const, v.string(), "read");
  const Write = defineMethod("T.Write", [] as const, v.string(), "write");
  let server: RunningServer;
  let writes = 0;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    const registry = new RpcRegistry()
      .implement(Read, () => "read ok")
      .implement(Write, () => {
        writes++;
        return "written";
      });
    const auth = secretAuthenticator(secret);
    server = serve({ app: mountRpc(new Hono(), registry, auth), registry, auth, hostname: "127.0.0.1", port: 0 });
    tokens.read = await createToken(secret, { name: "r", perm: "read" });
    tokens.write = await createToken(secret, { name: "w", perm: "write" });
    tokens.forged = await createToken(forgedSecret, { name: "evil", perm: "admin" });
  });
  afterAll(() => server.stop());

  async function post(method: string, authorization?: string) {
    const res = await fetch(`${server.url}/rpc/v0`, {
      method: "POST",
      headers: authorization ? { authorization } : {},
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: [] }),
    });
    const body = (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
    return { status: res.status, ...body };
  }

  test("no token: 401 naming the permission and how to get a token; nothing runs", async () => {
    const r = await post("T.Write");
    expect(r.status).toBe(401);
    expect(r.error?.code).toBe(RpcErrorCode.Unauthorized);
    expect(r.error?.message).toContain("T.Write needs a token with 'write' permission");
    expect(r.error?.message).toContain("damocles util auth create-token --perm write");
    expect(writes).toBe(0);
  });

  test("a read token reads and is refused writing (403), naming what it has", async () => {
    expect((await post("T.Read", `Bearer ${tokens.read}`)).result).toBe("read ok");
    const r = await post("T.Write", `Bearer ${tokens.read}`);
    expect(r.status).toBe(200);
    expect(r.error?.code).toBe(RpcErrorCode.Forbidden);
    expect(r.error?.message).toContain("token 'r' has only 'read'");
    expect(writes).toBe(0);
  });

  test("a forged token, or a header that is not Bearer, is HTTP 401 even for a read; the token is not echoed", async () => {
    for (const authz of [`Bearer ${tokens.forged}`, tokens.write!, "Basic dXNlcjpwYXNz"]) {
      const r = await post("T.Read", authz);
      expect(r.status).toBe(401);
      expect(r.error?.message).toContain("invalid token");
      expect(r.error?.message).not.toContain(tokens.forged!);
    }
    expect(writes).toBe(0);
  });

  test("a write token writes", async () => {
    expect((await post("T.Write", `Bearer ${tokens.write}`)).result).toBe("written");
    expect(writes).toBe(1);
  });

  test("websockets: the token of the upgrade (header or ?token=) is checked once; a forged one gets no socket", async () => {
    const ws = `${server.url.replace("http", "ws")}/rpc/v0`;
    const call = (url: string, method: string, headers: Record<string, string> = {}) =>
      new Promise<{ code?: number; result?: unknown }>((resolve, reject) => {
        const sock = new WebSocket(url, { headers });
        sock.onopen = () => sock.send(JSON.stringify({ jsonrpc: "2.0", id: 7, method, params: [] }));
        sock.onmessage = (ev) => {
          const msg = JSON.parse(String(ev.data));
          sock.close();
          resolve({ code: msg.error?.code, result: msg.result });
        };
        sock.onerror = () => reject(new Error("refused"));
      });
    expect(await call(ws, "T.Write", { authorization: `Bearer ${tokens.write}` })).toEqual({
      code: undefined,
      result: "written",
    });
    expect((await call(`${ws}?token=${tokens.read}`, "T.Write")).code).toBe(RpcErrorCode.Forbidden);
    expect((await call(ws, "T.Read")).code).toBe(RpcErrorCode.Unauthorized);
    await expect(call(ws, "T.Read", { authorization: `Bearer ${tokens.forged}` })).rejects.toThrow("refused");
    expect(writes).toBe(2);
  });
});

describe("the manager with auth on (the default)", () => {
  let t: TestManager;
  beforeAll(async () => {
    t = await startTestManager();
  });
  afterAll(() => t.close());

  function snapshot(): string {
    return JSON.stringify(COLLECTIONS.map((c) => t.manager.store.collection(c).scan()));
  }

  test("every method that changes something, called without a token, with a read token and with a forged one, changes nothing", async () => {
    const { registry } = t.manager;
    const guarded = registry.names().filter((n) => registry.describe(n)!.perm !== "read");
    expect(guarded).toContain("Venus.AllocateSector");
    expect(guarded).toContain("Damocles.MarketImport");
    expect(guarded).toContain("Damocles.PoStChainPushMessage");
    expect(guarded).toContain("Venus.AuthNew");
    const forged = await createToken(forgedSecret, { name: "admin", perm: "admin" });
    const before = snapshot();
    for (const method of guarded) {
      const perm = registry.describe(method)!.perm;
      for (const [who, authorization, code] of [
        ["none", undefined, RpcErrorCode.Unauthorized],
        ["read", `Bearer ${t.tokens.read}`, RpcErrorCode.Forbidden],
        ["forged", `Bearer ${forged}`, RpcErrorCode.Unauthorized],
      ] as const) {
        const res = await fetch(`${t.manager.url}/rpc/v0`, {
          method: "POST",
          headers: authorization ? { authorization } : {},
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: [{ Miner: 1000, Number: 1 }] }),
        });
        const body = (await res.json()) as { error?: { code: number; message: string } };
        expect(body.error?.code, `${method} (${perm}) with ${who} token`).toBe(code);
      }
    }
    expect(snapshot()).toBe(before);
    // With the right token the same call runs: the refusals above were the tokens'.
    expect((await t.client.call(Venus.AllocateSector, {}))?.ID).toEqual({ Miner: 1000, Number: 1 });
    expect(snapshot()).not.toBe(before);
  });
});

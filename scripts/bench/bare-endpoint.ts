/**
 * The floor the manager is compared with: Bun + hono answering JSON-RPC on /rpc/v0 with canned results,
 * one per method, recorded from the manager's own answers in the same run (same shapes, same sizes). No
 * store, no parameter validation, no chain; the token is compared as a string, not verified.
 * Prints its URL on stdout once listening. Usage: bun scripts/bench/bare-endpoint.ts <samples.json> <token>
 */
import { readFileSync } from "node:fs";
import { Hono } from "hono";
import * as v from "valibot";

const [samplesPath, token] = process.argv.slice(2);
if (!samplesPath || !token) throw new Error("usage: bare-endpoint.ts <samples.json> <token>");
const samples = v.parse(v.record(v.string(), v.unknown()), JSON.parse(readFileSync(samplesPath, "utf8")));
const expected = `Bearer ${token}`;

const app = new Hono();
app.get("/healthcheck", (c) => c.text("ok"));
app.post("/rpc/v0", async (c) => {
  if (c.req.header("authorization") !== expected) return c.json({ error: "unauthorized" }, 401);
  const req = (await c.req.json()) as { id?: unknown; method?: unknown };
  const method = String(req.method);
  if (!(method in samples)) {
    return c.json({
      jsonrpc: "2.0",
      id: req.id ?? null,
      error: { code: -32601, message: `method '${method}' not found` },
    });
  }
  return c.json({ jsonrpc: "2.0", id: req.id ?? null, result: samples[method] });
});

const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
process.stdout.write(`http://127.0.0.1:${server.port}/rpc/v0\n`);
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});

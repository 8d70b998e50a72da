import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { RpcCallError, RpcErrorCode } from "../../src/core/rpc/index.ts";
import { Damocles, Venus } from "../../src/core/sector/api.ts";
import { Proving } from "../../src/core/sector/api-proving.ts";
import { ENTRY, runCli } from "../helpers/cli.ts";
import { logTail, type ManagerHandle, until } from "../helpers/cluster.ts";
import { provingClient, startPoStManager } from "../helpers/post-cluster.ts";

/**
 * Proxy node mode (seed 002): a source manager hosting the devnet runs WITHOUT --poster, and a
 * `poster run --proxy` node on its own home, sharing the source's config through --conf-dir, proves the
 * source's deadlines through Damocles.PoStChain*, locating sectors through the source's index. With
 * --proxy-sector-indexer-off and an empty index of its own it cannot find them, and declares them faulty.
 */

const ACTOR = 1000;
let tmp: string;
let source: ManagerHandle;

interface PosterHandle {
  proc: Subprocess;
  home: string;
  api: string;
  /** The admin token the poster wrote into its own home at start. */
  token: string;
  log: string;
  stop(): Promise<number>;
}

/** `poster run` on its own home, sharing the source's config; resolves once it answers /healthcheck. */
async function startPoster(name: string, extra: string[] = []): Promise<PosterHandle> {
  const home = join(tmp, name);
  const log = join(tmp, `${name}.log`);
  const fd = openSync(log, "a");
  const args = [
    "poster",
    "run",
    "--home",
    home,
    "--conf-dir",
    source.home,
    "--proxy",
    source.api,
    "--proxy-token",
    source.token,
    "--listen",
    "127.0.0.1:0",
    ...extra,
  ];
  const proc = Bun.spawn([process.execPath, ENTRY, ...args], {
    stdout: fd,
    stderr: fd,
    env: { ...process.env, NO_COLOR: "1" },
  });
  const apiFile = join(home, "api");
  const api = await until(
    `the ${name} api file`,
    () => {
      if (proc.exitCode !== null) throw new Error(`poster run exited with ${proc.exitCode}:\n${logTail(log)}`);
      return existsSync(apiFile) ? readFileSync(apiFile, "utf8").trim() || undefined : undefined;
    },
    60_000,
  ).catch((err) => {
    proc.kill();
    throw err;
  });
  await until(
    `the ${name} /healthcheck`,
    async () => (await fetch(`http://${api}/healthcheck`)).ok || undefined,
    30_000,
  );
  return {
    proc,
    home,
    api,
    token: readFileSync(join(home, "token"), "utf8").trim(),
    log,
    async stop() {
      proc.kill("SIGTERM");
      return proc.exited;
    },
  };
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "damocles-proxy-"));
  source = await startPoStManager(join(tmp, "source"), { sectors: [1, 2, 3], runArgs: [], blockTime: "500ms" });
}, 120_000);

afterAll(async () => {
  await source?.stop();
  if (!process.env.DAMOCLES_KEEP_TEST_DIRS) rmSync(tmp, { recursive: true, force: true });
});

describe("poster run: flags", () => {
  test("without --proxy it refuses to start and names the flag", async () => {
    const r = await runCli(["poster", "run", "--home", join(tmp, "no-proxy"), "--conf-dir", source.home]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("--proxy");
    expect(existsSync(join(tmp, "no-proxy", "api"))).toBe(false);
  });

  test("an unreachable --proxy fails fast with the address and what it should be", async () => {
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = probe.port;
    probe.stop(true);
    const started = performance.now();
    const r = await runCli([
      "poster",
      "run",
      "--home",
      join(tmp, "unreachable"),
      "--conf-dir",
      source.home,
      "--proxy",
      `127.0.0.1:${port}`,
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`127.0.0.1:${port}`);
    expect(r.stderr).toContain("a damocles manager hosting the devnet?");
    expect(performance.now() - started).toBeLessThan(20_000);
  });

  test("a malformed --proxy is a usage error", async () => {
    const r = await runCli([
      "poster",
      "run",
      "--home",
      join(tmp, "bad"),
      "--conf-dir",
      source.home,
      "--proxy",
      "not-an-address",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--proxy: expected the source manager as ip:port");
  });
});

describe("proxy node proving for a source manager without --poster", () => {
  test("over one proving period every deadline holding sectors gets a devnet-verified proof from the proxy, zero faults", async () => {
    const src = provingClient(source);
    const before = await src.call(Proving.Info, ACTOR);
    expect(before.prover).toBeNull(); // the source itself does not prove
    expect(before.activeSectors).toBe(3);
    const poster = await startPoster("poster");
    try {
      const px = provingClient(poster);
      const info = await px.call(Proving.Info, ACTOR);
      expect(info.prover).toBe("local");
      expect(info.activeSectors).toBe(3);
      // The proxy answers sector locations from the source's index, and serves no sealing API.
      const loc = await px.call(Venus.SectorIndexerFind, "normal", { Miner: ACTOR, Number: 1 });
      expect(loc).toEqual({ Found: true, Instance: { SealedFile: "persist-1", CacheDir: "persist-1" } });
      const sealing = await provingClient(poster)
        .callRaw("Venus.AllocateSector", [{}])
        .catch((e: unknown) => e);
      expect(sealing).toBeInstanceOf(RpcCallError);
      expect((sealing as RpcCallError).code).toBe(RpcErrorCode.MethodNotFound);
      expect(readFileSync(poster.log, "utf8")).toContain("does not seal");
      // `util chain head` against the proxy shows the source's chain.
      const head = await px.call(Damocles.ChainHead);
      expect(head.Miners.map((m) => m.Actor)).toEqual([ACTOR]);
      expect(await (await fetch(`http://${poster.api}/metrics`)).text()).toContain("damocles_manager_chain_head_epoch");

      const start = info.current.currentEpoch;
      const period = info.deadlines * info.challengeWindow;
      const holding = (await src.call(Proving.Deadlines, ACTOR)).filter((d) => d.sectors > 0).map((d) => d.index);
      expect(holding.length).toBeGreaterThan(0);
      const records = await until(
        "one proving period of closed deadlines on the source",
        async () => {
          const recs = (await src.call(Proving.Records, ACTOR, 100)).filter(
            (r) => r.outcome !== undefined && r.open > start,
          );
          return new Set(recs.map((r) => r.deadline)).size >= holding.length ? recs : undefined;
        },
        (period + 2 * info.challengeWindow) * info.blockTimeMs + 30_000,
        500,
      ).catch((err) => {
        throw new Error(
          `${(err as Error).message}\n--- proxy ---\n${logTail(poster.log, 40)}\n--- source ---\n${logTail(source.log, 20)}`,
        );
      });
      for (const r of records) {
        expect({ deadline: r.deadline, outcome: r.outcome }).toEqual({ deadline: r.deadline, outcome: "proven" });
        expect(r.verifiedProofs).toBeGreaterThanOrEqual(1);
        expect(holding).toContain(r.deadline);
      }
      const after = await src.call(Proving.Info, ACTOR);
      expect(after.stats.faultsDetected + after.stats.faultsDeclared).toBe(0);
      expect(after.stats.windowPoStsRejected).toBe(0);
      expect(await src.call(Proving.Faults, ACTOR)).toEqual([]);
      // The proxy's own poster records say it was the one proving.
      expect((await px.call(Proving.Deadlines, ACTOR)).some((d) => d.poster?.status === "proven")).toBe(true);
    } finally {
      expect(await poster.stop()).toBe(0);
    }
    expect(existsSync(join(poster.home, "api"))).toBe(false);
  }, 300_000);

  test("--proxy-sector-indexer-off with an empty own index: the proxy cannot locate the sectors and declares them faulty", async () => {
    const poster = await startPoster("poster-own-index", ["--proxy-sector-indexer-off"]);
    try {
      const px = provingClient(poster);
      expect(await px.call(Venus.SectorIndexerFind, "normal", { Miner: ACTOR, Number: 1 })).toMatchObject({
        Found: false,
      });
      const row = (await px.call(Proving.Deadlines, ACTOR)).find((d) => d.sectors > 0)!;
      const checked = await px.call(Proving.Check, ACTOR, row.index, false);
      expect(checked.length).toBe(row.sectors);
      for (const s of checked) {
        expect(s.ok).toBe(false);
        expect(s.reason).toContain("not in the sector index");
      }
      // The poster skips what it cannot find; the chain records them as declared (not detected) faults.
      const src = provingClient(source);
      const info = await src.call(Proving.Info, ACTOR);
      const faults = await until(
        "the proxy to declare the unlocatable sectors faulty",
        async () => {
          const f = await src.call(Proving.Faults, ACTOR);
          return f.length > 0 ? f : undefined;
        },
        (info.deadlines + 1) * info.challengeWindow * info.blockTimeMs + 30_000,
        500,
      ).catch((err) => {
        throw new Error(`${(err as Error).message}\n--- proxy ---\n${logTail(poster.log, 40)}`);
      });
      for (const f of faults) expect(f.kind).toBe("declared");
      expect(readFileSync(poster.log, "utf8")).toContain("is not in the sector index");
    } finally {
      expect(await poster.stop()).toBe(0);
    }
  }, 300_000);
});

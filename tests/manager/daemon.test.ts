import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { bearer } from "../../src/core/auth/index.ts";
import { type RpcCallError, RpcClient, RpcErrorCode } from "../../src/core/rpc/index.ts";
import { Damocles, Venus } from "../../src/core/sector/api.ts";
import { VenusUnseal } from "../../src/core/sector/api-unseal.ts";
import type { MessageLookup } from "../../src/core/sector/chain.ts";
import { newSectorState, OnChainState, SubmitResult } from "../../src/core/sector/index.ts";
import { KVStore } from "../../src/core/store/index.ts";
import { SectorStates } from "../../src/manager/sectors/states.ts";
import { ENTRY, runCli } from "../helpers/cli.ts";
import { CC_COMM_D, TEST_COMM_R } from "./fixture.ts";
import { tempDir, waitFor } from "./helpers.ts";

const SRC = join(import.meta.dir, "../../src");

/**
 * The real daemon as a child process over a real socket: `manager init`, `manager run`, kill -9, restart.
 */

const dirs: { remove(): void }[] = [];
const procs: Subprocess[] = [];
afterAll(() => {
  for (const p of procs) p.kill("SIGKILL");
  for (const d of dirs) d.remove();
});

async function initHome(devnet: Record<string, string | number> = {}): Promise<string> {
  const dir = tempDir("damocles-daemon-");
  dirs.push(dir);
  const home = join(dir.path, "home");
  const r = await runCli(["manager", "init", "--home", home, "--actor", "1000", "--sector-size", "2KiB"]);
  expect(r.code).toBe(0);
  const cfg = join(home, "sector-manager.cfg");
  const extra = Object.entries(devnet)
    .map(([k, v]) => `${k} = ${typeof v === "string" ? JSON.stringify(v) : v}`)
    .join("\n");
  writeFileSync(cfg, readFileSync(cfg, "utf8").replace("[Common.Devnet]\n", `[Common.Devnet]\n${extra}\n`));
  return home;
}

interface Daemon {
  proc: Subprocess;
  addr: string;
  /** The admin token `manager init` wrote into the home. */
  token: string;
  client: RpcClient;
  log(): string;
}

async function runDaemon(home: string, extra: string[] = []): Promise<Daemon> {
  rmSync(join(home, "api"), { force: true }); // a kill -9 leaves the old one behind
  const logFile = join(home, `daemon-${procs.length}.log`);
  const proc = Bun.spawn(
    [process.execPath, ENTRY, "manager", "run", "--home", home, "--listen", "127.0.0.1:0", ...extra],
    {
      stdout: Bun.file(logFile),
      stderr: Bun.file(logFile),
      env: { ...process.env, NO_COLOR: "1" },
    },
  );
  procs.push(proc);
  const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
  const apiFile = join(home, "api");
  const addr = await waitFor(
    () => (existsSync(apiFile) ? readFileSync(apiFile, "utf8").trim() : ""),
    "the daemon to write its api file",
    20_000,
    50,
  ).catch((err) => {
    throw new Error(`${(err as Error).message}\ndaemon log:\n${log()}`);
  });
  await waitFor(async () => (await fetch(`http://${addr}/healthcheck`)).ok, "healthcheck", 10_000, 50);
  const token = readFileSync(join(home, "token"), "utf8").trim();
  return { proc, addr, token, client: new RpcClient(addr, { headers: bearer(token) }), log };
}

async function kill9(d: Daemon): Promise<void> {
  d.client.close();
  d.proc.kill("SIGKILL");
  await d.proc.exited;
}

const ALLOC = [{ AllowedMiners: null, AllowedProofTypes: null }] as const;

describe("manager daemon (spawned)", () => {
  test("acceptance: init, run, healthcheck, AllocateSector, errors, metrics, sectors list, kill -9 and the next number", async () => {
    const home = await initHome({ BlockTime: "200ms" });
    let d = await runDaemon(home);
    expect(await (await fetch(`http://${d.addr}/healthcheck`)).text()).toBe("ok\n");

    const raw = async (body: string) =>
      (
        await fetch(`http://${d.addr}/rpc/v0`, { method: "POST", body, headers: bearer(d.token) })
      ).json() as Promise<any>;
    const first = await raw(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "Venus.AllocateSector", params: ALLOC }));
    expect(first.result).toEqual({ ID: { Miner: 1000, Number: 1 }, ProofType: 5 });
    expect((await raw("{nope")).error.code).toBe(-32700);
    const bad = await raw(
      JSON.stringify({ jsonrpc: "2.0", id: 2, method: "Venus.AssignTicket", params: [{ Miner: 1000, Number: "one" }] }),
    );
    expect(bad.error.code).toBe(-32602);
    expect(bad.error.message).toContain("sid.Number");
    expect(
      (
        await raw(
          JSON.stringify({
            jsonrpc: "2.0",
            id: 3,
            method: "Venus.AssignTicket",
            params: [{ Miner: 1000, Number: 999 }],
          }),
        )
      ).error.code,
    ).toBe(11001);
    const second = await raw(JSON.stringify({ jsonrpc: "2.0", id: 4, method: "Venus.AllocateSector", params: ALLOC }));
    expect(second.result.ID.Number).toBe(2);

    const metrics = await (await fetch(`http://${d.addr}/metrics`)).text();
    expect(metrics).toContain('damocles_manager_new_sector{miner="1000"} 2');
    expect(metrics).toContain("damocles_manager_api_request_duration_ms_bucket");

    await d.client.call(Venus.WorkerPing, {
      Name: "w1",
      Dest: "127.0.0.1:17890",
      Version: "t",
      Summary: { Threads: 2, Empty: 0, Paused: 0, Running: 2, Waiting: 0, Errors: 0 },
    });
    const list = await runCli(["util", "sealer", "sectors", "list", "--api", d.addr, "--token", d.token]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain("s-t01000-1");
    expect(list.stdout).toContain("s-t01000-2");
    const viaHome = await runCli(["util", "sealer", "sectors", "list", "--home", home]);
    expect(viaHome.stdout).toContain("s-t01000-2");
    const workers = await runCli(["util", "worker", "list", "--api", d.addr, "--token", d.token]);
    expect(workers.stdout).toMatch(/w1\s+127\.0\.0\.1:17890/);
    const stores = await runCli(["util", "storage", "list", "--api", d.addr, "--token", d.token]);
    expect(stores.stdout).toContain("persist-1");
    const head = await runCli(["util", "chain", "head", "--api", d.addr, "--token", d.token]);
    expect(head.stdout).toContain("f01000");
    expect(head.stdout).toMatch(/epoch:\s+\d+/);
    const state = await runCli([
      "util",
      "sealer",
      "sectors",
      "state",
      "1000",
      "2",
      "--api",
      d.addr,
      "--token",
      d.token,
    ]);
    expect(state.stdout).toContain('"Number": 2');
    const noConfirm = await runCli([
      "util",
      "sealer",
      "sectors",
      "abort",
      "1000",
      "2",
      "--api",
      d.addr,
      "--token",
      d.token,
    ]);
    expect(noConfirm.code).not.toBe(0);
    expect(noConfirm.stderr).toContain("--really-do-it");
    expect(
      (
        await runCli([
          "util",
          "sealer",
          "sectors",
          "abort",
          "1000",
          "2",
          "--really-do-it",
          "--api",
          d.addr,
          "--token",
          d.token,
        ])
      ).code,
    ).toBe(0);
    expect(
      (await runCli(["util", "sealer", "sectors", "list", "--offline", "--api", d.addr, "--token", d.token])).stdout,
    ).toContain("aborted via");
    expect(
      (await runCli(["util", "sealer", "sectors", "restore", "1000", "2", "--api", d.addr, "--token", d.token])).code,
    ).toBe(0);

    await kill9(d);
    d = await runDaemon(home);
    expect((await d.client.call(Venus.AllocateSector, ALLOC[0]))!.ID.Number).toBe(3);
    expect((await d.client.call(Venus.ListSectors, "online", 0))!.map((s) => s.ID.Number)).toEqual([1, 2, 3]);
    await kill9(d);
    const down = await runCli(["util", "sealer", "sectors", "list", "--api", d.addr, "--token", d.token]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("cannot talk to the manager");
  }, 60_000);

  test("sectors list pages through a store larger than one page; FindSectorWithPiece uses the piece index", async () => {
    const home = await initHome();
    const seeded = KVStore.open(join(home, "damocles.db"));
    const states = new SectorStates(seeded);
    states.pieces.markBuilt(); // a new home: its index is complete from the first state on
    seeded.transaction(() => {
      for (let n = 1; n <= 600; n++) {
        const s = newSectorState({ Miner: 1000, Number: n }, 0);
        s.Pre = {
          CommR: { "/": "bagboea4b5abc" },
          CommD: { "/": `baga6ea4seaq${n}` },
          Ticket: { Ticket: Buffer.alloc(32).toString("base64"), Epoch: 1 },
          Deals: null,
        };
        s.Finalized = true;
        states.saveOffline(s);
      }
    });
    seeded.close();
    const d = await runDaemon(home);
    const list = await runCli(["util", "sealer", "sectors", "list", "--offline", "--api", d.addr, "--token", d.token]);
    expect(list.code).toBe(0);
    const rows = list.stdout.split("\n").filter((l) => l.startsWith("s-t01000-"));
    expect(new Set(rows.map((l) => l.split(/\s+/)[0])).size).toBe(600);
    expect(list.stdout.match(/^Sector\s/gm)?.length).toBe(1); // one header over every page
    expect(list.stdout).toContain("600 offline sector(s)");
    // The original two-argument call still answers everything, sorted by number.
    const all = (await d.client.call(Venus.ListSectors, "offline", 0))!;
    expect(all.map((s) => s.ID.Number)).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    const page = (await d.client.call(Venus.ListSectors, "offline", 0, { Miner: 1000, Number: 599 }, 5))!;
    expect(page.map((s) => s.ID.Number)).toEqual([6, 60, 600, 61, 62]); // store key order, after m-1000-n-599
    const found = await d.client.call(VenusUnseal.FindSectorWithPiece, "offline", { "/": "baga6ea4seaq42" });
    expect(found?.ID.Number).toBe(42);
    await kill9(d);
  });

  test("--no-auth serves every caller, and says so loudly; without it a call without a token is refused", async () => {
    const home = await initHome();
    let d = await runDaemon(home, ["--no-auth"]);
    const anonymous = new RpcClient(d.addr);
    expect((await anonymous.call(Venus.AllocateSector, {}))?.ID.Number).toBe(1);
    expect(d.log()).toContain("--no-auth: /rpc/v0 and /piecestore/ accept every caller with admin rights");
    await kill9(d);
    anonymous.close();
    d = await runDaemon(home);
    const stranger = new RpcClient(d.addr);
    const refused = await stranger.call(Venus.AllocateSector, {}).catch((e: unknown) => e);
    expect((refused as RpcCallError).code).toBe(RpcErrorCode.Unauthorized);
    expect(d.log()).not.toContain(d.token);
    stranger.close();
    await kill9(d);
  }, 60_000);

  test("kill -9 between SubmitPreCommit and landing: nothing lost, no message sent twice", async () => {
    const home = await initHome({
      BlockTime: "100ms",
      MessagePackDelay: 15,
      MessageLandDelay: 2,
      SealRandomnessLookback: 2,
    });
    let d = await runDaemon(home);
    await waitFor(async () => (await d.client.call(Damocles.ChainHead)).Epoch >= 5, "a few epochs");
    const sector = (await d.client.call(Venus.AllocateSector, ALLOC[0]))!;
    const ticket = await d.client.call(Venus.AssignTicket, sector.ID);
    const res = await d.client.call(
      Venus.SubmitPreCommit,
      sector,
      { CommR: TEST_COMM_R, CommD: CC_COMM_D, Ticket: ticket, Deals: null },
      false,
    );
    expect(res.Res).toBe(SubmitResult.Accepted);
    await kill9(d); // the answer was Accepted: the manager must keep that promise

    d = await runDaemon(home);
    const before = (await d.client.call(Venus.PollPreCommitState, sector.ID)).State;
    expect([OnChainState.Pending, OnChainState.Packed, OnChainState.Landed] as number[]).toContain(before);
    const cid = await waitFor(
      async () => (await d.client.call(Venus.FindSector, "online", sector.ID))?.MessageInfo.PreCommitCid?.["/"],
      "the PreCommit message id",
    );
    await kill9(d); // and again while the message waits in the pool

    d = await runDaemon(home);
    await waitFor(
      async () => (await d.client.call(Venus.PollPreCommitState, sector.ID)).State === OnChainState.Landed,
      "the PreCommit to land",
      30_000,
      100,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\ndaemon log:\n${d.log()}`);
    });
    expect((await d.client.call(Venus.FindSector, "online", sector.ID))!.MessageInfo.PreCommitCid!["/"]).toBe(cid);
    // Resubmitting the same PreCommit after the restart is a duplicate, not a second message.
    expect(
      (
        await d.client.call(
          Venus.SubmitPreCommit,
          sector,
          { CommR: TEST_COMM_R, CommD: CC_COMM_D, Ticket: ticket, Deals: null },
          false,
        )
      ).Res,
    ).toBe(SubmitResult.DuplicateSubmit);
    d.client.close();
    d.proc.kill("SIGTERM");
    await d.proc.exited;

    // The manager's outbox holds the message once, under the id it reported, with the chain CID it was sent
    // as; the devnet it hosts received exactly one message, that one.
    const store = KVStore.open(join(home, "damocles.db"));
    const outbox = store
      .collection("common")
      .scanJSON<{ id: string; cid?: string }>("chain/outbox/")
      .map((e) => e.value);
    const messages = store
      .collection("chain")
      .scanJSON<MessageLookup>("msg/")
      .map((e) => e.value);
    store.close();
    expect(outbox.map((e) => e.id)).toEqual([cid]);
    expect(messages.length).toBe(1);
    expect(messages[0]!.cid).toBe(outbox[0]!.cid!);
    // Executed on chain (the manager counted it landed by its own confidence, which the devnet's bookkeeping
    // of the same message may reach an epoch later).
    expect(["packed", "landed"]).toContain(messages[0]!.status);
    const sent = messages[0]!.message;
    expect(sent.method).toBe("PreCommitSectorBatch2");
    expect("sectors" in sent ? sent.sectors.map((s) => s.number) : []).toEqual([sector.ID.Number]);
  }, 90_000);
});

describe("manager daemon: a start step that fails", () => {
  test("a chain node it cannot reach stops `manager run` with the fix, not a stack trace", async () => {
    const home = await initHome();
    const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const port = closed.port;
    closed.stop(true);
    const cfg = join(home, "sector-manager.cfg");
    const chain = `Chain = "/ip4/127.0.0.1/tcp/${port}/http"`;
    writeFileSync(cfg, readFileSync(cfg, "utf8").replace("#[Common.API]\n", `[Common.API]\n${chain}\n`));
    const r = await runCli(["manager", "run", "--home", home, "--listen", "127.0.0.1:0"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`cannot reach the chain node at http://127.0.0.1:${port}/rpc/v1`);
    expect(r.stderr).toContain("check [Common.API] Chain");
    expect(r.stderr).not.toMatch(/^\s+at /m);
  }, 30_000);

  test("leaves no store, timer, child or listener open (the port is taken; ext-prover.cfg is missing)", async () => {
    const dir = tempDir("damocles-daemon-fail-");
    dirs.push(dir);
    const home = join(dir.path, "home");
    // Run in a child: it can only exit by itself once nothing is left open.
    const script = `
      import { existsSync } from "node:fs";
      import { startManager } from ${JSON.stringify(join(SRC, "manager/daemon.ts"))};
      import { openAuthenticator } from ${JSON.stringify(join(SRC, "core/auth/index.ts"))};
      import { fakeVerifier, managerConfig } from ${JSON.stringify(join(import.meta.dir, "helpers.ts"))};
      const home = ${JSON.stringify(home)};
      const wal = home + "/damocles.db-wal";
      const config = managerConfig({
        Common: { Devnet: { BlockTime: "100ms", Miners: [{ Actor: 1000, SectorSize: "2KiB" }] } },
        Miners: [{ Actor: 1000 }],
      });
      const auth = { authenticator: openAuthenticator, secret: new Uint8Array(32) };
      const base = { home, config, auth, hostname: "127.0.0.1", verifier: fakeVerifier() };
      const outcome = async (start) => {
        try {
          const m = await start();
          await m.stop();
          return "started";
        } catch (err) {
          return err.code ?? err.message;
        }
      };
      // The last step fails: the chain, the commit manager and proving have started by then.
      const blocker = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("taken") });
      const portTaken = await outcome(() => startManager({ ...base, port: blocker.port }));
      blocker.stop(true);
      const walAfterPortTaken = existsSync(wal);
      // Building the proving module fails: the store is open by then.
      const extProver = await outcome(() =>
        startManager({ ...base, port: 0, confDir: home + "/no-conf", proving: { extProver: true } }),
      );
      const walAfterExtProver = existsSync(wal);
      console.log(JSON.stringify({ portTaken, walAfterPortTaken, extProver, walAfterExtProver }));
    `;
    const proc = Bun.spawn([process.execPath, "-e", script], {
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, NO_COLOR: "1" },
    });
    procs.push(proc);
    const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(20_000).then(() => false)]);
    if (!exited) proc.kill("SIGKILL");
    const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    expect(exited, `the process did not exit by itself after the failed starts:\n${stdout}\n${stderr}`).toBe(true);
    expect(proc.exitCode, stderr).toBe(0);
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!);
    expect(result.portTaken).toBe("EADDRINUSE");
    expect(result.walAfterPortTaken).toBe(false);
    expect(result.extProver).toContain("ext-prover.cfg");
    expect(result.walAfterExtProver).toBe(false);
  }, 60_000);
});

import { afterAll, expect, test } from "bun:test";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bearer } from "../../src/core/auth/index.ts";
import { LotusApi } from "../../src/core/chain/lotus-api.ts";
import { RpcCallError, RpcClient, RpcErrorCode } from "../../src/core/rpc/index.ts";
import { ENTRY, REPO } from "../helpers/cli.ts";
import { tempDir } from "../manager/helpers.ts";

const home = tempDir("damocles-devnet-run-");
afterAll(() => home.remove());

/**
 * Drains both output streams to the end (a closed pipe would fail the daemon's last log lines) and resolves
 * with the first match of `pattern` in what came so far.
 */
function watchOutput(streams: ReadableStream<Uint8Array>[], pattern: RegExp): Promise<RegExpExecArray> {
  let text = "";
  return new Promise((resolve, reject) => {
    const drains = streams.map(async (stream) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        text += decoder.decode(chunk, { stream: true });
        const m = pattern.exec(text);
        if (m) resolve(m);
      }
    });
    void Promise.all(drains).then(() => reject(new Error(`the devnet exited before logging its endpoint:\n${text}`)));
  });
}

test("damocles devnet run serves the node API with the home's token and stops on SIGTERM", async () => {
  const config = join(home.path, "my-devnet.toml");
  writeFileSync(
    config,
    [
      'Seed = "cli-test"',
      'BlockTime = "200ms"',
      "InsecureSkipProofVerification = true",
      "[[Miners]]",
      "Actor = 1000",
      "",
    ].join("\n"),
  );
  const proc = Bun.spawn(
    [process.execPath, ENTRY, "devnet", "run", "--listen", "127.0.0.1:0", "--home", home.path, "--config", config],
    { cwd: REPO, env: { ...process.env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" },
  );
  try {
    const pattern = /devnet node API at (http:\/\/\S+\/rpc\/v1) \(token: (\S+)\)/;
    const m = await watchOutput([proc.stdout, proc.stderr], pattern);
    const [, endpoint, tokenFile] = m;
    expect(tokenFile).toBe(join(home.path, "token"));
    expect(statSync(tokenFile!).mode & 0o777).toBe(0o600);
    expect(statSync(join(home.path, "auth-secret")).mode & 0o777).toBe(0o600);

    const token = (await Bun.file(tokenFile!).text()).trim();
    const client = new RpcClient(endpoint!, { headers: bearer(token) });
    const head = await client.call(LotusApi.ChainHead);
    expect(head.Height).toBeGreaterThanOrEqual(0);
    expect(await client.call(LotusApi.StateMinerInfo, "t01000", null)).toMatchObject({ SectorSize: 2048 });

    const anonymous = new RpcClient(endpoint!);
    const refused = await anonymous.call(LotusApi.ChainHead).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(RpcCallError);
    expect((refused as RpcCallError).code).toBe(RpcErrorCode.Unauthorized);

    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  } finally {
    proc.kill("SIGKILL");
  }
}, 30_000);

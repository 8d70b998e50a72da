import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCpuset } from "../../src/core/config/fields.ts";
import { sysfsFixtures } from "../doctor/helpers.ts";
import { runCli } from "../helpers/cli.ts";

const fx = sysfsFixtures();
const bin = mkdtempSync(join(tmpdir(), "damocles-hwinfo-bin-"));
afterAll(() => {
  fx.cleanup();
  rmSync(bin, { recursive: true, force: true });
});

describe("damocles util hwinfo", () => {
  test("on this machine: NUMANode, L3 and every online PU", async () => {
    const r = await runCli(["util", "hwinfo"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("NUMANode (#0");
    const online = parseCpuset(await Bun.file("/sys/devices/system/cpu/online").text())!;
    for (const pu of online) expect(r.stdout).toMatch(new RegExp(`PU #${pu}\\b`));
    // L3 comes from the cache index directories; a machine without them gets a note instead.
    if (r.stdout.includes("no L3 cache information")) expect(r.stdout).toContain("Notes:");
    else expect(r.stdout).toMatch(/L3 \(#0 \d+ [KMG]iB\)/);
    expect(r.stdout).toContain("Disks:");
    expect(r.stdout).toContain("GPUs:");
  });

  test("--json is one valid JSON document with the same facts", async () => {
    const r = await runCli(["util", "hwinfo", "--json"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.source).toBe("/sys");
    expect(doc.topology.pus.length).toBeGreaterThan(0);
    expect(doc.tree.kind).toBe("Machine");
    expect(Array.isArray(doc.summary)).toBe(true);
    expect(doc.gpus).toBeDefined();
    expect(Array.isArray(doc.disks)).toBe(true);
  });

  test("--sysfs on the 64-PU fixture shows all 16 L3 groups and PU #63", async () => {
    const r = await runCli(["util", "hwinfo", "--sysfs", fx.path("two-socket-64")]);
    expect(r.code).toBe(0);
    for (let i = 0; i < 16; i++) expect(r.stdout).toContain(`L3 (#${i} 16 MiB)`);
    expect(r.stdout).toContain("PU #60 + PU #61 + PU #62 + PU #63");
    expect(r.stdout).toContain("NUMANode #0 (PUs 0-31): 8 whole L3 groups of 4 PUs (4 cores) each, L3 #0-#7");
    expect(r.stdout).toContain("NUMANode #1: 251.98 GiB total, 210 GiB free");
    expect(r.stdout).toMatch(/nvme0n1\s+NVMe/);
  });

  test("--sysfs --json --full on the 4-GPU fixture lists GPUs and cores", async () => {
    const r = await runCli(["util", "hwinfo", "--json", "--full", "--sysfs", fx.path("four-node-48")]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.gpus.gpus.map((g: { index: number }) => g.index)).toEqual([0, 1, 2, 3]);
    expect(doc.topology.numaNodes).toHaveLength(4);
    expect(JSON.stringify(doc.tree)).toContain('"kind":"Core"');
  });

  test("GPUs from nvidia-smi on PATH (a fake one here)", async () => {
    const script = join(bin, "nvidia-smi");
    writeFileSync(
      script,
      "#!/bin/sh\necho '0, NVIDIA GeForce RTX 3090, 24576'\necho '1, NVIDIA GeForce RTX 3090, 24576'\n",
    );
    chmodSync(script, 0o755);
    const r = await runCli(["util", "hwinfo"], { env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("GPU #0: NVIDIA GeForce RTX 3090, 24 GiB");
    expect(r.stdout).toContain("GPU #1: NVIDIA GeForce RTX 3090, 24 GiB");
  });

  test("--sysfs naming a directory without devices/system/cpu is a usage error", async () => {
    const r = await runCli(["util", "hwinfo", "--sysfs", join(fx.root, "nope")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("devices/system/cpu does not exist");
  });
});

import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gpusFor, parseNvidiaSmiCsv, queryGpus, readDisks } from "../../src/util/hwinfo/index.ts";
import { sysfsFixtures } from "../doctor/helpers.ts";

const fx = sysfsFixtures();
const bin = mkdtempSync(join(tmpdir(), "damocles-fake-bin-"));
afterAll(() => {
  fx.cleanup();
  rmSync(bin, { recursive: true, force: true });
});

/** A fake nvidia-smi on a PATH of its own: prints `out` and exits with `code` when called with the query flags. */
function fakeNvidiaSmi(dir: string, out: string, code = 0): string {
  const script = join(dir, "nvidia-smi");
  writeFileSync(
    script,
    `#!/bin/sh\ncase "$*" in *--query-gpu=index,name,memory.total*--format=csv,noheader,nounits*) ;; *) echo "unexpected args: $*" >&2; exit 64;; esac\ncat <<'EOF'\n${out}\nEOF\nexit ${code}\n`,
  );
  chmodSync(script, 0o755);
  return dir;
}

describe("GPUs", () => {
  test("nvidia-smi CSV: index, name (commas allowed) and memory in MiB", () => {
    expect(parseNvidiaSmiCsv("0, NVIDIA GeForce RTX 3090, 24576\n1, Tesla T4, 15360\n\n")).toEqual([
      { index: 0, name: "NVIDIA GeForce RTX 3090", memoryMiB: 24576 },
      { index: 1, name: "Tesla T4", memoryMiB: 15360 },
    ]);
    expect(parseNvidiaSmiCsv("2, Odd, Name, Inc, 8192")).toEqual([
      { index: 2, name: "Odd, Name, Inc", memoryMiB: 8192 },
    ]);
    expect(parseNvidiaSmiCsv("0, A100, [N/A]")).toEqual([{ index: 0, name: "A100, [N/A]" }]);
  });

  test("no nvidia-smi on PATH: unknown, with the reason", () => {
    const r = queryGpus({ path: join(bin, "empty") });
    expect(r.gpus).toBeUndefined();
    expect(r.note).toBe("GPUs unknown: nvidia-smi not found on PATH");
  });

  test("a fake nvidia-smi on PATH is run with the query flags", () => {
    const dir = join(bin, "ok");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    fakeNvidiaSmi(dir, "0, NVIDIA GeForce RTX 3090, 24576\n1, NVIDIA GeForce RTX 3090, 24576");
    const r = queryGpus({ path: dir });
    expect(r.gpus?.map((g) => g.index)).toEqual([0, 1]);
    expect(r.source).toBe(join(dir, "nvidia-smi"));
  });

  test("a failing nvidia-smi (driver mismatch) is unknown, quoting its message", () => {
    const dir = join(bin, "broken");
    mkdirSync(dir, { recursive: true });
    fakeNvidiaSmi(dir, "Failed to initialize NVML: Driver/library version mismatch", 18);
    const r = queryGpus({ path: dir });
    expect(r.gpus).toBeUndefined();
    expect(r.note).toBe("GPUs unknown: nvidia-smi failed: Failed to initialize NVML: Driver/library version mismatch");
  });

  test("a dump carries its GPU list as nvidia-smi.csv; without it the GPUs are unknown", () => {
    expect(gpusFor(fx.path("four-node-48")).gpus).toHaveLength(4);
    const r = gpusFor(fx.path("two-socket-64"));
    expect(r.gpus).toBeUndefined();
    expect(r.note).toContain("nvidia-smi.csv not found");
  });
});

describe("disks", () => {
  test("type from the name and the rotational flag; virtual devices skipped; sizes in bytes", () => {
    const disks = readDisks(fx.path("two-socket-64"));
    expect(disks.map((d) => [d.name, d.type, d.model])).toEqual([
      ["nvme0n1", "NVMe", "SAMSUNG MZQL23T8HCLS"],
      ["sda", "HDD", "ST16000NM001G"],
      ["sdb", "SSD", "INTEL SSDSC2KB96"],
    ]);
    expect(disks[0]!.sizeBytes).toBe(Math.floor(3_840_000_000_000 / 512) * 512);
    expect(disks.every((d) => d.mounts === undefined)).toBe(true); // a dump has no mount table
  });

  test("free space comes from the mounts of a disk and of its partitions", () => {
    const mounts = join(bin, "mounts");
    writeFileSync(
      mounts,
      [
        "/dev/nvme0n1p1 /mnt/nvme1 xfs rw 0 0",
        "/dev/sda /mnt/hdd\\040store ext4 rw 0 0",
        "/dev/sda /var/lib/docker/x ext4 rw 0 0",
        "tmpfs /tmp tmpfs rw 0 0",
      ].join("\n"),
    );
    const disks = readDisks(fx.path("two-socket-64"), {
      mountsFile: mounts,
      statfs: (m) => ({ freeBytes: m.length * 2 ** 30, totalBytes: 100 * 2 ** 30 }),
      resolveDevice: (d) => d.replace("/dev/", ""),
    });
    const byName = Object.fromEntries(disks.map((d) => [d.name, d.mounts]));
    expect(byName.nvme0n1).toEqual([
      { mountpoint: "/mnt/nvme1", device: "/dev/nvme0n1p1", freeBytes: 10 * 2 ** 30, totalBytes: 100 * 2 ** 30 },
    ]);
    expect(byName.sda?.map((m) => m.mountpoint)).toEqual(["/mnt/hdd store", "/var/lib/docker/x"]);
    expect(byName.sdb).toEqual([]);
  });
});

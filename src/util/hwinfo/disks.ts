import { readFileSync, realpathSync, statfsSync } from "node:fs";
import { basename } from "node:path";
import { SysfsReader } from "./sysfs.ts";

/**
 * Block devices with their kind (NVMe / SSD / HDD, from the kernel's rotational flag) and the free
 * space of the filesystems mounted from them — what an operator checks before placing sealing stores.
 */

export type DiskType = "NVMe" | "SSD" | "HDD";

export interface DiskMount {
  mountpoint: string;
  device: string;
  freeBytes?: number;
  totalBytes?: number;
}

export interface DiskInfo {
  name: string;
  type: DiskType;
  sizeBytes?: number;
  model?: string;
  /** Absent when no mount table was available (a dump of another machine). */
  mounts?: DiskMount[];
}

export interface ReadDisksOptions {
  /** A /proc/mounts-format file; the running machine uses /proc/self/mounts, dumps have none. */
  mountsFile?: string;
  /** Free/total bytes of a mounted filesystem (injectable for tests). */
  statfs?: (mountpoint: string) => { freeBytes: number; totalBytes: number } | undefined;
  /** /dev path → kernel name (follows /dev/mapper and /dev/disk/by-* links on the running machine). */
  resolveDevice?: (device: string) => string;
}

// Virtual devices that hold no sealing data: loop images, RAM disks, optical and floppy drives.
const SKIP = /^(loop|ram|zram|sr|fd|nbd)\d*/;

export function readDisks(sysfsRoot = "/sys", opts: ReadDisksOptions = {}): DiskInfo[] {
  const fs = new SysfsReader(sysfsRoot);
  const live = sysfsRoot === "/sys";
  const mountsFile = opts.mountsFile ?? (live ? "/proc/self/mounts" : undefined);
  const statfs = opts.statfs ?? (live ? realStatfs : () => undefined);
  const resolveDevice = opts.resolveDevice ?? (live ? realDeviceName : (d: string) => basename(d));

  const disks: DiskInfo[] = [];
  const owner = new Map<string, DiskInfo>();
  for (const name of fs.entries("block")) {
    if (SKIP.test(name)) continue;
    const sectors = fs.int(`block/${name}/size`);
    if (sectors === 0) continue; // an empty card reader or a detached device
    const rotational = fs.text(`block/${name}/queue/rotational`);
    const type: DiskType = name.startsWith("nvme") ? "NVMe" : rotational === "1" ? "HDD" : "SSD";
    const model = fs.text(`block/${name}/device/model`);
    const disk: DiskInfo = {
      name,
      type,
      ...(sectors !== undefined ? { sizeBytes: sectors * 512 } : {}),
      ...(model ? { model } : {}),
      ...(mountsFile ? { mounts: [] } : {}),
    };
    disks.push(disk);
    owner.set(name, disk);
    // Partitions are subdirectories carrying a `partition` file (vda1, nvme0n1p2).
    for (const sub of fs.entries(`block/${name}`)) {
      if (sub.startsWith(name) && fs.text(`block/${name}/${sub}/partition`) !== undefined) owner.set(sub, disk);
    }
  }

  if (mountsFile) {
    let text = "";
    try {
      text = readFileSync(mountsFile, "utf8");
    } catch {
      // No mount table: sizes and types are still worth showing.
    }
    const seen = new Set<string>();
    for (const line of text.split("\n")) {
      const [device, rawMount] = line.split(" ");
      if (!device?.startsWith("/dev/") || !rawMount) continue;
      const mountpoint = rawMount.replace(/\\040/g, " ");
      const disk = owner.get(resolveDevice(device));
      if (!disk?.mounts || seen.has(`${disk.name}:${mountpoint}`)) continue;
      seen.add(`${disk.name}:${mountpoint}`);
      const space = statfs(mountpoint);
      disk.mounts.push({ mountpoint, device, ...(space ?? {}) });
    }
    // Containers bind-mount one filesystem many times; the shortest path is the one people recognise.
    for (const d of disks)
      d.mounts?.sort((a, b) => a.mountpoint.length - b.mountpoint.length || a.mountpoint.localeCompare(b.mountpoint));
  }
  return disks;
}

function realStatfs(mountpoint: string): { freeBytes: number; totalBytes: number } | undefined {
  try {
    const s = statfsSync(mountpoint);
    return { freeBytes: Number(s.bavail) * Number(s.bsize), totalBytes: Number(s.blocks) * Number(s.bsize) };
  } catch {
    return undefined;
  }
}

function realDeviceName(device: string): string {
  try {
    return basename(realpathSync(device));
  } catch {
    return basename(device);
  }
}

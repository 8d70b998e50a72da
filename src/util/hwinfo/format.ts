import { formatBytes } from "../../core/config/units.ts";

/** "251.57 GiB", "16 MiB", "512 KiB": binary units with a space, the way hwloc-style trees print sizes. */
export function formatSize(bytes: number | undefined): string {
  return bytes === undefined ? "?" : formatBytes(bytes, " ");
}

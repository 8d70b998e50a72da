import * as v from "valibot";
import { DevnetSchema } from "../core/config/manager.ts";

/**
 * `[Common.Devnet]`: settings of the embedded verifying test chain (schema and defaults in core/config),
 * small enough that a 2KiB sector goes from PreCommit to an active sector in well under a minute.
 */
export type DevnetConfig = v.InferOutput<typeof DevnetSchema>;
export type DevnetSettings = DevnetConfig;

/** Resolved settings; fields left out fall back to the schema defaults (tests pass partial settings). */
export function devnetSettings(partial: Partial<DevnetConfig> = {}): DevnetSettings {
  const defaults = v.parse(DevnetSchema, {});
  const defined = Object.fromEntries(Object.entries(partial).filter(([, value]) => value !== undefined));
  return { ...defaults, ...defined };
}

import * as v from "valibot";
import { ConfigError, issuesToDiagnostics } from "../../core/config/diagnostics.ts";
import { DevnetSchema } from "../../core/config/manager.ts";
import { keyLines, parseToml, TomlSyntaxError } from "../../core/config/toml.ts";
import { findUnknownKeys } from "../../core/config/unknown-keys.ts";
import type { DevnetConfig } from "../config.ts";

/**
 * devnet.toml, the standalone devnet's file: the keys of the manager's [Common.Devnet] block at the top
 * level (Seed, BlockTime, … and [[Miners]] with Actor, SectorSize, PreSealed, Worker), the same schema.
 */
export const DEVNET_CONFIG_FILE = "devnet.toml";

export interface LoadedDevnetConfig {
  value: DevnetConfig;
  /** Unknown keys: the file loads, but the operator should look. */
  warnings: string[];
}

/** Parses devnet.toml text; a ConfigError names file, line, key, bad value and expectation. */
export function parseDevnetConfig(text: string, file: string): LoadedDevnetConfig {
  let raw: Record<string, unknown>;
  try {
    raw = parseToml(text, file);
  } catch (err) {
    if (err instanceof TomlSyntaxError)
      throw new ConfigError([
        { severity: "error", file, line: err.line, path: "", message: `invalid TOML: ${err.reason}` },
      ]);
    throw err;
  }
  const lines = keyLines(text);
  const unknown = findUnknownKeys(DevnetSchema, raw, { file, lines });
  const parsed = v.safeParse(DevnetSchema, raw);
  if (!parsed.success) throw new ConfigError([...issuesToDiagnostics(parsed.issues, file, lines), ...unknown]);
  return {
    value: parsed.output,
    warnings: unknown.map((w) => `${w.file}${w.line ? `:${w.line}` : ""}: ${w.path}: ${w.message}`),
  };
}

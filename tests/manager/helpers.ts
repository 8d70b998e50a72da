import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { type ManagerConfig, ManagerFileSchema } from "../../src/core/config/manager.ts";
import type { SealVerifier } from "../../src/devnet/index.ts";

/** A manual clock: tests move time, never sleep. */
export class FakeClock {
  constructor(public ms = 1_700_000_000_000) {}
  now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}

/**
 * Polls until fn returns a truthy value or the deadline passes. The default deadline is generous: it only
 * bounds a wait that fails, and a loaded 2-core CI machine is slow to push a message through the client.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  what: string,
  timeoutMs = 30_000,
  everyMs = 10,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`);
    await Bun.sleep(everyMs);
  }
}

export function tempDir(prefix = "damocles-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A manager config from the file schema with its defaults, as loading a TOML file would give. */
export function managerConfig(raw: Record<string, unknown>): ManagerConfig {
  return v.parse(ManagerFileSchema, raw);
}

/** Accepts exactly the proof bytes "valid-proof" (base64 dmFsaWQtcHJvb2Y=); records every call. */
export function fakeVerifier(): SealVerifier & { calls: number } {
  const verifier = {
    name: "test verifier",
    calls: 0,
    async verifySeal(input: { proof: Uint8Array }) {
      verifier.calls++;
      return Buffer.from(input.proof).toString() === "valid-proof";
    },
  };
  return verifier;
}

export const VALID_PROOF_B64 = Buffer.from("valid-proof").toString("base64");
export const BAD_PROOF_B64 = Buffer.from("tampered-proof").toString("base64");

import { expect, test } from "bun:test";
import { ConfigError } from "../../core/config/diagnostics.ts";
import { parseDevnetConfig } from "./config-file.ts";

test("devnet.toml holds [Common.Devnet]'s keys at the top level", () => {
  const loaded = parseDevnetConfig(
    ['Seed = "s"', 'BlockTime = "500ms"', "Colour = 1", "[[Miners]]", "Actor = 1000", 'SectorSize = "2KiB"'].join("\n"),
    "devnet.toml",
  );
  expect(loaded.value).toMatchObject({ Seed: "s", BlockTime: 500, Miners: [{ Actor: 1000, SectorSize: 2048 }] });
  expect(loaded.warnings.join("\n")).toContain("Colour");
});

test("a bad value is refused naming the file, line and key", () => {
  let err: unknown;
  try {
    parseDevnetConfig('Seed = "s"\nWPoStChallengeWindow = -3\n', "devnet.toml");
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as Error).message).toContain("devnet.toml:2");
  expect((err as Error).message).toContain("WPoStChallengeWindow");
});

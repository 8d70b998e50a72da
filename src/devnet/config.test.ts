import { describe, expect, test } from "bun:test";
import { ConfigError, parseConfigText } from "../core/config/index.ts";
import { devnetSettings } from "./config.ts";

describe("[Common.Devnet]", () => {
  test("defaults are a fast devnet", () => {
    const d = devnetSettings();
    expect(d).toMatchObject({
      Seed: "damocles-devnet",
      BlockTime: 1000,
      PreCommitChallengeDelay: 10,
      InsecureSkipProofVerification: false,
      Miners: [],
    });
  });

  test("read from sector-manager.cfg with units, every key known to the main schema", () => {
    const { value, warnings } = parseConfigText(
      "manager",
      `[Common.Devnet]\nBlockTime = "200ms"\nInsecureSkipProofVerification = true\nInteractivePoRepConfidence = 0\n[[Common.Devnet.Miners]]\nActor = 1000\nSectorSize = "8MiB"\n`,
      "sector-manager.cfg",
    );
    expect(warnings).toEqual([]);
    const d = value.Common.Devnet;
    expect(d.BlockTime).toBe(200);
    expect(d.InsecureSkipProofVerification).toBe(true);
    expect(d.InteractivePoRepConfidence).toBe(0);
    expect(d.Miners).toEqual([{ Actor: 1000, SectorSize: 8 << 20 }]);
  });

  test("a bad value names the key and its line", () => {
    try {
      parseConfigText("manager", `[Common.Devnet]\nBlockTime = "soon"\n`, "x.cfg");
      throw new Error("expected a ConfigError");
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toContain("x.cfg:2 Common.Devnet.BlockTime: expected a duration");
    }
  });
});

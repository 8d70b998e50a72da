import { describe, expect, test } from "bun:test";
import { formatBytes, formatDuration, formatFil, parseBytes, parseDuration, parseFil } from "./units.ts";

describe("durations", () => {
  test.each([
    ["30s", 30_000],
    ["5min", 300_000],
    ["1m0s", 60_000],
    ["25h0m0s", 90_000_000],
    ["1h30m", 5_400_000],
    ["500ms", 500],
    ["2min", 120_000],
    ["1.5s", 1500],
    ["0", 0],
    ["180s", 180_000],
  ])("%s", (text, ms) => expect(parseDuration(text)).toBe(ms));

  test.each(["", "abc", "5 parsecs", "-1s", "1x", "s"])("rejects %p", (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );

  test("formats in the Go form", () => {
    expect(formatDuration(60_000)).toBe("1m0s");
    expect(formatDuration(90_000_000)).toBe("25h0m0s");
    expect(formatDuration(15_000)).toBe("15s");
    expect(formatDuration(250)).toBe("250ms");
  });
});

describe("byte sizes", () => {
  test.each([
    ["2KiB", 2048],
    ["8MiB", 8 * 1024 ** 2],
    ["32GiB", 32 * 1024 ** 3],
    ["64GiB", 64 * 1024 ** 3],
    ["2048", 2048],
    ["1KB", 1000],
  ])("%s", (text, n) => expect(parseBytes(text)).toBe(n));
  test.each(["", "2XB", "-1KiB", "KiB"])("rejects %p", (t) => expect(parseBytes(t)).toBeUndefined());
  test("formats", () => {
    expect(formatBytes(2048)).toBe("2KiB");
    expect(formatBytes(32 * 1024 ** 3)).toBe("32GiB");
  });
});

describe("FIL amounts", () => {
  test("nanoFIL and FIL", () => {
    expect(parseFil("5 nanoFIL")).toBe(5_000_000_000n);
    expect(parseFil("0.1 FIL")).toBe(10n ** 17n);
    expect(parseFil("1")).toBe(10n ** 18n);
    expect(parseFil("7 attoFIL")).toBe(7n);
  });
  test("rejects nonsense and sub-attoFIL", () => {
    expect(parseFil("five FIL")).toBeUndefined();
    expect(parseFil("0.5 attoFIL")).toBeUndefined();
    expect(parseFil("3 gigaFIL")).toBeUndefined();
  });
  test("formats", () => expect(formatFil(5_000_000_000n)).toBe("5 nanoFIL"));
});

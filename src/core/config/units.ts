/**
 * The value syntaxes operators already write in damocles files: Go durations ("1m0s", "25h0m0s"),
 * humantime durations ("5min", "30s"), IEC byte sizes ("2KiB", "32GiB") and FIL amounts ("5 nanoFIL").
 * Parsers return undefined on bad input so schema code can report the field and the expected form.
 */

const DURATION_UNITS_MS: Record<string, number> = {
  ns: 1e-6,
  nsec: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  usec: 1e-3,
  ms: 1,
  msec: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hrs: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
};

const DURATION_PART = /(\d+(?:\.\d+)?)\s*([a-zµ]+)/gy;

/** "1m0s" → 60000, "5min" → 300000, "1h 30min" → 5400000. Milliseconds, or undefined if not a duration. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim().toLowerCase();
  if (s === "0") return 0;
  if (s.length === 0) return undefined;
  let total = 0;
  let pos = 0;
  DURATION_PART.lastIndex = 0;
  while (pos < s.length) {
    while (s[pos] === " ") pos++;
    if (pos >= s.length) break;
    DURATION_PART.lastIndex = pos;
    const m = DURATION_PART.exec(s);
    if (!m) return undefined;
    const factor = DURATION_UNITS_MS[m[2]!];
    if (factor === undefined) return undefined;
    total += Number(m[1]) * factor;
    pos = DURATION_PART.lastIndex;
  }
  return Math.round(total);
}

/** 60000 → "1m0s"; the Go form, so printed values can be pasted back into any damocles file. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  let rest = Math.round(ms / 1000);
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const s = rest - m * 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

const BYTE_UNITS: Record<string, number> = {
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
  pib: 1024 ** 5,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
  pb: 1000 ** 5,
  // Bare "K"/"G" as lotus prints them are binary.
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
};

/** "2KiB" → 2048, "32GiB" → 34359738368, "2048" → 2048. Undefined if not a size. */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2] ?? "").toLowerCase();
  const factor = unit === "" ? 1 : BYTE_UNITS[unit];
  if (factor === undefined) return undefined;
  const value = Number(m[1]) * factor;
  return Number.isSafeInteger(value) ? value : undefined;
}

/** 2048 → "2KiB", 34359738368 → "32GiB"; falls back to a decimal with two places. `sep` goes before the unit. */
export function formatBytes(bytes: number, sep = ""): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(2);
  return `${text}${sep}${units[i]}`;
}

const FIL_UNITS: Record<string, bigint> = {
  fil: 10n ** 18n,
  millifil: 10n ** 15n,
  microfil: 10n ** 12n,
  nanofil: 10n ** 9n,
  picofil: 10n ** 6n,
  femtofil: 10n ** 3n,
  attofil: 1n,
};

/** "5 nanoFIL" → 5000000000n attoFIL; "0.1 FIL" → 10^17; a bare number is FIL, as lotus reads it. */
export function parseFil(text: string): bigint | undefined {
  const m = /^\s*(\d+)(?:\.(\d+))?\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[3] ?? "").toLowerCase() || "fil";
  const factor = FIL_UNITS[unit] ?? (unit === "afil" ? 1n : undefined);
  if (factor === undefined) return undefined;
  const whole = BigInt(m[1]!) * factor;
  const fracDigits = m[2] ?? "";
  if (fracDigits === "") return whole;
  const scale = 10n ** BigInt(fracDigits.length);
  const frac = BigInt(fracDigits) * factor;
  if (frac % scale !== 0n) return undefined; // finer than one attoFIL
  return whole + frac / scale;
}

export function formatFil(atto: bigint): string {
  for (const [unit, factor] of [
    ["FIL", FIL_UNITS.fil!],
    ["nanoFIL", FIL_UNITS.nanofil!],
  ] as const) {
    if (atto >= factor && atto % factor === 0n) return `${atto / factor} ${unit}`;
  }
  return `${atto} attoFIL`;
}

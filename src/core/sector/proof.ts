import * as v from "valibot";

/**
 * Proof types as integers on the wire (abi.RegisteredSealProof / abi.RegisteredPoStProof in go-state-types).
 * The enums are append-only; the integer is what workers, managers and the chain exchange.
 */

export const SECTOR_SIZES = {
  "2KiB": 2048,
  "8MiB": 8 << 20,
  "512MiB": 512 << 20,
  "32GiB": 32 * 2 ** 30,
  "64GiB": 64 * 2 ** 30,
} as const;

export type SectorSizeName = keyof typeof SECTOR_SIZES;
const SIZE_NAMES = Object.keys(SECTOR_SIZES) as SectorSizeName[];

/** The four families of seal proof, in enum order; each family lists the five published sizes. */
export const SEAL_PROOF_VARIANTS = ["V1", "V1_1", "V1_1_Feat_SyntheticPoRep", "V1_2_Feat_NonInteractivePoRep"] as const;
export type SealProofVariant = (typeof SEAL_PROOF_VARIANTS)[number];

export interface SealProofInfo {
  readonly id: number;
  readonly name: string;
  readonly sectorSize: number;
  readonly sizeName: SectorSizeName;
  readonly variant: SealProofVariant;
}

export const SEAL_PROOFS: readonly SealProofInfo[] = SEAL_PROOF_VARIANTS.flatMap((variant, vi) =>
  SIZE_NAMES.map((sizeName, si) => ({
    id: vi * SIZE_NAMES.length + si,
    name: `StackedDrg${sizeName}${variant}`,
    sectorSize: SECTOR_SIZES[sizeName],
    sizeName,
    variant,
  })),
);

export const SealProofSchema = v.pipe(
  v.number(),
  v.integer(),
  v.minValue(0, "seal proof type must be an abi.RegisteredSealProof integer 0..19"),
  v.maxValue(SEAL_PROOFS.length - 1, "seal proof type must be an abi.RegisteredSealProof integer 0..19"),
);
export type SealProof = v.InferOutput<typeof SealProofSchema>;

export function sealProofInfo(id: number): SealProofInfo {
  const info = SEAL_PROOFS[id];
  if (!info) throw new RangeError(`unknown seal proof type ${id}: expected an integer 0..${SEAL_PROOFS.length - 1}`);
  return info;
}

export function sealProofFor(sectorSize: number, variant: SealProofVariant = "V1_1"): number {
  const found = SEAL_PROOFS.find((p) => p.sectorSize === sectorSize && p.variant === variant);
  if (!found)
    throw new RangeError(`no seal proof for sector size ${sectorSize} bytes; supported: ${SIZE_NAMES.join(", ")}`);
  return found.id;
}

/** Parses "2KiB", "32GiB", "2048" into bytes of a published sector size. */
export function parseSectorSize(text: string): number {
  const trimmed = text.trim();
  const named = SIZE_NAMES.find((n) => n.toLowerCase() === trimmed.toLowerCase());
  if (named) return SECTOR_SIZES[named];
  if (/^\d+$/.test(trimmed)) {
    const bytes = Number(trimmed);
    if (SIZE_NAMES.some((n) => SECTOR_SIZES[n] === bytes)) return bytes;
  }
  throw new RangeError(
    `sector size ${JSON.stringify(text)} is not a published size; use one of ${SIZE_NAMES.join(", ")}`,
  );
}

export function sectorSizeName(bytes: number): string {
  return SIZE_NAMES.find((n) => SECTOR_SIZES[n] === bytes) ?? `${bytes}B`;
}

/**
 * abi.RegisteredPoStProof: Winning{size}V1 0..4, Window{size}V1 5..9, Window{size}V1_1 10..14
 * (Go's V1_1 is rust-fil-proofs' V1_2, the grindability fix).
 */
export const POST_PROOFS: readonly { id: number; name: string; sectorSize: number; kind: "winning" | "window" }[] = [
  ...SIZE_NAMES.map((s, i) => ({
    id: i,
    name: `StackedDrgWinning${s}V1`,
    sectorSize: SECTOR_SIZES[s],
    kind: "winning" as const,
  })),
  ...SIZE_NAMES.map((s, i) => ({
    id: 5 + i,
    name: `StackedDrgWindow${s}V1`,
    sectorSize: SECTOR_SIZES[s],
    kind: "window" as const,
  })),
  ...SIZE_NAMES.map((s, i) => ({
    id: 10 + i,
    name: `StackedDrgWindow${s}V1_1`,
    sectorSize: SECTOR_SIZES[s],
    kind: "window" as const,
  })),
];

export const PoStProofSchema = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(POST_PROOFS.length - 1));

export function windowPoStProofFor(sealProof: number): number {
  const size = sealProofInfo(sealProof).sectorSize;
  return POST_PROOFS.find((p) => p.kind === "window" && p.sectorSize === size && p.id >= 10)!.id;
}

export function winningPoStProofFor(sealProof: number): number {
  const size = sealProofInfo(sealProof).sectorSize;
  return POST_PROOFS.find((p) => p.kind === "winning" && p.sectorSize === size)!.id;
}

export function postProofName(id: number): string {
  const p = POST_PROOFS[id];
  if (!p) throw new RangeError(`unknown PoSt proof type ${id}`);
  return p.name;
}

/**
 * rust-fil-proofs' RegisteredPoStProof variant name of a wire integer: what vc-processors tasks and
 * WdPoSt jobs carry. Go's Window…V1_1 (ids 10..14) is rust's …V1_2; every other name is the same.
 */
export function postProofRustName(id: number): string {
  const p = POST_PROOFS[id];
  if (!p)
    throw new RangeError(
      `unknown PoSt proof type ${id}: expected an abi.RegisteredPoStProof integer 0..${POST_PROOFS.length - 1}`,
    );
  return id >= 10 ? p.name.replace(/V1_1$/, "V1_2") : p.name;
}

/** Sectors per Window PoSt partition, from the proofs' shape constants. */
export function windowPoStPartitionSectors(sealProof: number): number {
  const size = sealProofInfo(sealProof).sectorSize;
  if (size === SECTOR_SIZES["32GiB"]) return 2349;
  if (size === SECTOR_SIZES["64GiB"]) return 2300;
  return 2;
}

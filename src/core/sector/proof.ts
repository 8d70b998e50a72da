import * as v from "valibot";

/**
 * The one table of registered proof types: seal (abi.RegisteredSealProof), PoSt (RegisteredPoStProof)
 * and empty-sector update (RegisteredUpdateProof), by their integers on the wire, with their names and
 * sector sizes. Everything else (config, processors, the proofs API) derives from it; the Rust addon
 * mirrors the same order (crates/proofs-ffi/src/registry.rs, checked by tests/proofs/addon.test.ts).
 *
 * The enums are append-only. Each lists families of the five published sector sizes, in the order of
 * SECTOR_SIZES, so a type's integer is `family index × 5 + size index`.
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

/** Sectors per WindowPoSt partition (filecoin-proofs' WINDOW_POST_SECTOR_COUNT). */
const WINDOW_POST_PARTITION_SECTORS: Record<SectorSizeName, number> = {
  "2KiB": 2,
  "8MiB": 2,
  "512MiB": 2,
  "32GiB": 2349,
  "64GiB": 2300,
};

/** One registered proof type. */
export interface RegisteredProof {
  /** The wire integer. */
  readonly id: number;
  /** The go-state-types (abi) name, e.g. "StackedDrgWindow2KiBV1_1". */
  readonly name: string;
  /**
   * The rust-fil-proofs (filecoin-proofs-api serde) variant name: what vc-processors tasks and the Go
   * manager write. Equal to `name` except for Go's WindowPoSt …V1_1, which is rust's …V1_2 (the
   * grindability fix).
   */
  readonly rustName: string;
  readonly sectorSize: number;
  readonly sizeName: SectorSizeName;
}

/** A family: one name pattern over the five sizes, plus what its rows carry besides. */
interface Family<Extra> {
  prefix: string;
  suffix: string;
  rustSuffix?: string;
  extra: Extra;
}

function registry<Extra>(families: readonly Family<Extra>[]): readonly (RegisteredProof & Extra)[] {
  return families.flatMap((f, fi) =>
    SIZE_NAMES.map((sizeName, si) => ({
      ...f.extra,
      id: fi * SIZE_NAMES.length + si,
      name: `${f.prefix}${sizeName}${f.suffix}`,
      rustName: `${f.prefix}${sizeName}${f.rustSuffix ?? f.suffix}`,
      sectorSize: SECTOR_SIZES[sizeName],
      sizeName,
    })),
  );
}

/** The four families of seal proof, in enum order. */
export const SEAL_PROOF_VARIANTS = ["V1", "V1_1", "V1_1_Feat_SyntheticPoRep", "V1_2_Feat_NonInteractivePoRep"] as const;
export type SealProofVariant = (typeof SEAL_PROOF_VARIANTS)[number];

export interface SealProofInfo extends RegisteredProof {
  readonly variant: SealProofVariant;
}

/** abi.RegisteredSealProof 0..19: StackedDrg{size}{variant}. */
export const SEAL_PROOFS: readonly SealProofInfo[] = registry(
  SEAL_PROOF_VARIANTS.map((variant) => ({ prefix: "StackedDrg", suffix: variant, extra: { variant } })),
);

export type PoStKind = "winning" | "window";

export interface PoStProofInfo extends RegisteredProof {
  readonly kind: PoStKind;
}

/** abi.RegisteredPoStProof: Winning{size}V1 0..4, Window{size}V1 5..9, Window{size}V1_1 10..14. */
export const POST_PROOFS: readonly PoStProofInfo[] = registry<{ kind: PoStKind }>([
  { prefix: "StackedDrgWinning", suffix: "V1", extra: { kind: "winning" } },
  { prefix: "StackedDrgWindow", suffix: "V1", extra: { kind: "window" } },
  { prefix: "StackedDrgWindow", suffix: "V1_1", rustSuffix: "V1_2", extra: { kind: "window" } },
]);

/** abi.RegisteredUpdateProof 0..4: StackedDrg{size}V1 (filecoin-proofs-api API version 1.1.0). */
export const UPDATE_PROOFS: readonly RegisteredProof[] = registry([{ prefix: "StackedDrg", suffix: "V1", extra: {} }]);

/** The row of wire integer `id`; a RangeError naming `what` and the valid range otherwise. */
function lookup<P extends RegisteredProof>(table: readonly P[], id: number, what: string, integer = "an integer"): P {
  const p = table[id];
  if (!p) throw new RangeError(`unknown ${what} ${id}: expected ${integer} 0..${table.length - 1}`);
  return p;
}

// Seal proofs.

export const SealProofSchema = v.pipe(
  v.number(),
  v.integer(),
  v.minValue(0, `seal proof type must be an abi.RegisteredSealProof integer 0..${SEAL_PROOFS.length - 1}`),
  v.maxValue(
    SEAL_PROOFS.length - 1,
    `seal proof type must be an abi.RegisteredSealProof integer 0..${SEAL_PROOFS.length - 1}`,
  ),
);
export type SealProof = v.InferOutput<typeof SealProofSchema>;

export function sealProofInfo(id: number): SealProofInfo {
  return lookup(SEAL_PROOFS, id, "seal proof type");
}

export function sealProofFor(sectorSize: number, variant: SealProofVariant = "V1_1"): number {
  const found = SEAL_PROOFS.find((p) => p.sectorSize === sectorSize && p.variant === variant);
  if (!found)
    throw new RangeError(`no seal proof for sector size ${sectorSize} bytes; supported: ${SIZE_NAMES.join(", ")}`);
  return found.id;
}

/** Seal proof wire integer from its serde name ("StackedDrg2KiBV1_1" → 5). */
export function sealProofFromName(name: string): number {
  const p = SEAL_PROOFS.find((s) => s.name === name);
  if (!p) throw new RangeError(`unknown RegisteredSealProof ${JSON.stringify(name)}`);
  return p.id;
}

export function sealProofName(id: number): string {
  return sealProofInfo(id).name;
}

// Sector sizes.

/** The published size name of `bytes`; undefined for any other size. */
export function publishedSectorSize(bytes: number): SectorSizeName | undefined {
  return SIZE_NAMES.find((n) => SECTOR_SIZES[n] === bytes);
}

/** Parses "2KiB", "32GiB", "2048" into bytes of a published sector size. */
export function parseSectorSize(text: string): number {
  const trimmed = text.trim();
  const named = SIZE_NAMES.find((n) => n.toLowerCase() === trimmed.toLowerCase());
  if (named) return SECTOR_SIZES[named];
  if (/^\d+$/.test(trimmed) && publishedSectorSize(Number(trimmed))) return Number(trimmed);
  throw new RangeError(
    `sector size ${JSON.stringify(text)} is not a published size; use one of ${SIZE_NAMES.join(", ")}`,
  );
}

/** "2KiB" for a published size, "<bytes>B" for any other. */
export function sectorSizeName(bytes: number): string {
  return publishedSectorSize(bytes) ?? `${bytes}B`;
}

// PoSt proofs.

export const PoStProofSchema = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(POST_PROOFS.length - 1));

export function postProofInfo(id: number): PoStProofInfo {
  return lookup(POST_PROOFS, id, "PoSt proof type", "an abi.RegisteredPoStProof integer");
}

/** The WindowPoSt proof (current version, Go's …V1_1) for sectors sealed with `sealProof`. */
export function windowPoStProofFor(sealProof: number): number {
  const size = sealProofInfo(sealProof).sectorSize;
  return POST_PROOFS.findLast((p) => p.kind === "window" && p.sectorSize === size)!.id;
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
 * WdPoSt jobs carry.
 */
export function postProofRustName(id: number): string {
  return postProofInfo(id).rustName;
}

/** The wire integer of a rust-fil-proofs RegisteredPoStProof variant name; undefined when unknown. */
export function postProofFromRustName(name: string): number | undefined {
  return POST_PROOFS.find((p) => p.rustName === name)?.id;
}

/** Sectors per Window PoSt partition, from the proofs' shape constants. */
export function windowPoStPartitionSectors(sealProof: number): number {
  return WINDOW_POST_PARTITION_SECTORS[sealProofInfo(sealProof).sizeName];
}

// Empty-sector update proofs.

export function updateProofInfo(id: number): RegisteredProof {
  return lookup(UPDATE_PROOFS, id, "update proof type");
}

/** The update proof for sectors sealed with a seal proof, or of a sector size in bytes. */
export function updateProofFor(sealProofOrSize: number): number {
  const size = sealProofOrSize < SEAL_PROOFS.length ? sealProofInfo(sealProofOrSize).sectorSize : sealProofOrSize;
  const p = UPDATE_PROOFS.find((u) => u.sectorSize === size);
  if (!p) throw new RangeError(`no update proof for sector size ${size}`);
  return p.id;
}

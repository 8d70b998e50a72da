import { ensureProofsConfigured } from "./config.ts";
import { native } from "./native.ts";

/**
 * What a registered proof means, from the library itself (partitions, API version, parameter ids).
 * The wire integers, names and sector sizes are the table in src/core/sector/proof.ts.
 */

export interface SealProofDetails {
  sectorSize: number;
  partitions: number;
  apiVersion: string;
  singlePartitionProofLen: number;
  /** Cache id of the PoRep parameters: files are `v28-<id>.params` / `.vk`. */
  circuitIdentifier: string;
}

export interface PoStProofDetails {
  sectorSize: number;
  kind: "winning" | "window";
  /** Sectors per partition (window) or per proof (winning). */
  sectorCount: number;
  apiVersion: string;
  singlePartitionProofLen: number;
  circuitIdentifier: string;
}

export interface UpdateProofDetails {
  sectorSize: number;
  /** Partitions of the update SNARK. */
  partitions: number;
  apiVersion: string;
  singlePartitionProofLen: number;
}

export async function sealProofDetails(registeredProof: number): Promise<SealProofDetails> {
  ensureProofsConfigured();
  return native().sealProofInfo(registeredProof);
}

export async function postProofDetails(postProof: number): Promise<PoStProofDetails> {
  ensureProofsConfigured();
  const d = await native().postProofInfo(postProof);
  return { ...d, kind: d.kind === "winning" ? "winning" : "window" };
}

export async function updateProofDetails(updateProof: number): Promise<UpdateProofDetails> {
  ensureProofsConfigured();
  return native().updateProofInfo(updateProof);
}

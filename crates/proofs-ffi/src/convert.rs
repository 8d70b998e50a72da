//! Conversions between napi values and filecoin-proofs-api types.
//!
//! Conventions (mirrored by src/core/proofs/native.ts):
//! - registered proofs travel as their wire integers (abi.RegisteredSealProof 0..19,
//!   abi.RegisteredPoStProof 0..14, abi.RegisteredUpdateProof 0..4), which equal the enum order of
//!   filecoin-proofs-api;
//! - 32-byte values (commitments, prover id, ticket, seed, randomness) are Uint8Array/Buffer;
//! - u64 quantities (sector numbers, byte sizes, offsets, challenge indices) are JS numbers (napi i64);
//!   the TS layer only passes safe integers, Rust rejects negatives.

use anyhow::{anyhow, bail, ensure, Result};
use filecoin_proofs_api::{
  PieceInfo, RegisteredPoStProof, RegisteredSealProof, RegisteredUpdateProof, SectorId,
  UnpaddedBytesAmount,
};
use napi::bindgen_prelude::Uint8Array;
use napi_derive::napi;

pub const SEAL_PROOFS: [RegisteredSealProof; 20] = {
  use RegisteredSealProof::*;
  [
    StackedDrg2KiBV1,
    StackedDrg8MiBV1,
    StackedDrg512MiBV1,
    StackedDrg32GiBV1,
    StackedDrg64GiBV1,
    StackedDrg2KiBV1_1,
    StackedDrg8MiBV1_1,
    StackedDrg512MiBV1_1,
    StackedDrg32GiBV1_1,
    StackedDrg64GiBV1_1,
    StackedDrg2KiBV1_1_Feat_SyntheticPoRep,
    StackedDrg8MiBV1_1_Feat_SyntheticPoRep,
    StackedDrg512MiBV1_1_Feat_SyntheticPoRep,
    StackedDrg32GiBV1_1_Feat_SyntheticPoRep,
    StackedDrg64GiBV1_1_Feat_SyntheticPoRep,
    StackedDrg2KiBV1_2_Feat_NonInteractivePoRep,
    StackedDrg8MiBV1_2_Feat_NonInteractivePoRep,
    StackedDrg512MiBV1_2_Feat_NonInteractivePoRep,
    StackedDrg32GiBV1_2_Feat_NonInteractivePoRep,
    StackedDrg64GiBV1_2_Feat_NonInteractivePoRep,
  ]
};

pub const POST_PROOFS: [RegisteredPoStProof; 15] = {
  use RegisteredPoStProof::*;
  [
    StackedDrgWinning2KiBV1,
    StackedDrgWinning8MiBV1,
    StackedDrgWinning512MiBV1,
    StackedDrgWinning32GiBV1,
    StackedDrgWinning64GiBV1,
    StackedDrgWindow2KiBV1,
    StackedDrgWindow8MiBV1,
    StackedDrgWindow512MiBV1,
    StackedDrgWindow32GiBV1,
    StackedDrgWindow64GiBV1,
    StackedDrgWindow2KiBV1_2,
    StackedDrgWindow8MiBV1_2,
    StackedDrgWindow512MiBV1_2,
    StackedDrgWindow32GiBV1_2,
    StackedDrgWindow64GiBV1_2,
  ]
};

pub const UPDATE_PROOFS: [RegisteredUpdateProof; 5] = {
  use RegisteredUpdateProof::*;
  [
    StackedDrg2KiBV1,
    StackedDrg8MiBV1,
    StackedDrg512MiBV1,
    StackedDrg32GiBV1,
    StackedDrg64GiBV1,
  ]
};

pub fn seal_proof(v: u32) -> Result<RegisteredSealProof> {
  SEAL_PROOFS
    .get(v as usize)
    .copied()
    .ok_or_else(|| anyhow!("unknown registered seal proof {v} (expected 0..19)"))
}

pub fn post_proof(v: u32) -> Result<RegisteredPoStProof> {
  POST_PROOFS
    .get(v as usize)
    .copied()
    .ok_or_else(|| anyhow!("unknown registered PoSt proof {v} (expected 0..14)"))
}

pub fn post_proof_id(p: RegisteredPoStProof) -> u32 {
  POST_PROOFS
    .iter()
    .position(|x| *x == p)
    .expect("every RegisteredPoStProof is listed") as u32
}

pub fn update_proof(v: u32) -> Result<RegisteredUpdateProof> {
  UPDATE_PROOFS
    .get(v as usize)
    .copied()
    .ok_or_else(|| anyhow!("unknown registered update proof {v} (expected 0..4)"))
}

pub fn b32(name: &str, v: &[u8]) -> Result<[u8; 32]> {
  ensure!(v.len() == 32, "{name} must be 32 bytes, got {}", v.len());
  let mut out = [0u8; 32];
  out.copy_from_slice(v);
  Ok(out)
}

pub fn u64_of(name: &str, v: i64) -> Result<u64> {
  if v < 0 {
    bail!("{name} must not be negative, got {v}");
  }
  Ok(v as u64)
}

pub fn sector_id(v: i64) -> Result<SectorId> {
  Ok(SectorId::from(u64_of("sector id", v)?))
}

pub fn i64_of(v: u64) -> i64 {
  // Every u64 handed back (sizes, sector numbers, challenges) is far below 2^53 in practice.
  v as i64
}

/// A piece: its commitment (CommP) and unpadded size in bytes.
#[napi(object)]
pub struct PieceInfoJs {
  pub commitment: Uint8Array,
  pub size: i64,
}

pub fn piece_infos(pieces: &[PieceInfoJs]) -> Result<Vec<PieceInfo>> {
  pieces
    .iter()
    .enumerate()
    .map(|(i, p)| {
      let commitment = b32(&format!("pieces[{i}].commitment"), &p.commitment)?;
      let size = u64_of(&format!("pieces[{i}].size"), p.size)?;
      PieceInfo::new(commitment, UnpaddedBytesAmount(size))
    })
    .collect()
}

pub fn piece_info_js(p: &PieceInfo) -> PieceInfoJs {
  PieceInfoJs {
    commitment: Uint8Array::from(p.commitment.to_vec()),
    size: i64_of(u64::from(p.size)),
  }
}

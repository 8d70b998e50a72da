//! Conversions between napi values and filecoin-proofs-api types, for the `parse` step of every
//! exported function (see task.rs).
//!
//! Conventions (the raw surface src/core/proofs/native.ts loads):
//! - registered proofs travel as their wire integers (registry.rs);
//! - 32-byte values (commitments, prover id, ticket, seed, randomness) are Uint8Array/Buffer;
//! - u64 quantities (sector numbers, byte sizes, offsets, challenge indices) are JS numbers (napi i64);
//!   the TS layer only passes safe integers, Rust rejects negatives.
//!
//! Every check names the argument it rejects ("comm_r must be 32 bytes, got 31").

use anyhow::{bail, ensure, Result};
use filecoin_proofs_api::{PieceInfo, SectorId, UnpaddedBytesAmount};
use napi::bindgen_prelude::Uint8Array;
use napi_derive::napi;

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

pub fn u64s(name: &str, vs: &[i64]) -> Result<Vec<u64>> {
  vs.iter().map(|v| u64_of(name, *v)).collect()
}

pub fn sector_id(v: i64) -> Result<SectorId> {
  Ok(SectorId::from(u64_of("sector id", v)?))
}

pub fn sector_ids(vs: &[i64]) -> Result<Vec<SectorId>> {
  vs.iter().map(|v| sector_id(*v)).collect()
}

/// Copies of JS byte arrays, to move into the worker-pool closure.
pub fn byte_vecs(vs: &[Uint8Array]) -> Vec<Vec<u8>> {
  vs.iter().map(|v| v.to_vec()).collect()
}

pub fn i64_of(v: u64) -> i64 {
  // Every u64 handed back (sizes, sector numbers, challenges) is far below 2^53 in practice.
  v as i64
}

pub fn bytes_js(v: &[u8]) -> Uint8Array {
  Uint8Array::from(v.to_vec())
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
  PieceInfoJs { commitment: bytes_js(&p.commitment), size: i64_of(u64::from(p.size)) }
}

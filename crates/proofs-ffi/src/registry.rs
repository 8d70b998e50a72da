//! Registered-proof helpers: what a proof type means (sizes, partitions, versions, parameter ids).

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;

use crate::convert::{post_proof, seal_proof, update_proof};
use crate::task::{failed, job, Job};

#[napi(object)]
pub struct SealProofInfo {
  pub sector_size: i64,
  pub partitions: u32,
  pub api_version: String,
  pub single_partition_proof_len: u32,
  /// Cache id of the PoRep parameters (`v28-<id>.params`).
  pub circuit_identifier: String,
}

#[napi(ts_return_type = "Promise<SealProofInfo>")]
pub fn seal_proof_info(registered_proof: u32) -> AsyncTask<Job<SealProofInfo>> {
  const NAME: &str = "seal_proof_info";
  let p = match seal_proof(registered_proof) {
    Ok(v) => v,
    Err(e) => return failed(NAME, e),
  };
  job(NAME, move || {
    Ok(SealProofInfo {
      sector_size: u64::from(p.sector_size()) as i64,
      partitions: p.partitions() as u32,
      api_version: p.version().to_string(),
      single_partition_proof_len: p.single_partition_proof_len() as u32,
      circuit_identifier: p.circuit_identifier()?,
    })
  })
}

#[napi(object)]
pub struct PoStProofInfo {
  pub sector_size: i64,
  /// "winning" | "window"
  pub kind: String,
  /// Sectors per partition (window) or per proof (winning).
  pub sector_count: u32,
  pub api_version: String,
  pub single_partition_proof_len: u32,
  pub circuit_identifier: String,
}

#[napi(ts_return_type = "Promise<PoStProofInfo>")]
pub fn post_proof_info(registered_proof: u32) -> AsyncTask<Job<PoStProofInfo>> {
  const NAME: &str = "post_proof_info";
  let p = match post_proof(registered_proof) {
    Ok(v) => v,
    Err(e) => return failed(NAME, e),
  };
  job(NAME, move || {
    Ok(PoStProofInfo {
      sector_size: u64::from(p.sector_size()) as i64,
      kind: match p.typ() {
        filecoin_proofs_api::PoStType::Winning => "winning".to_string(),
        filecoin_proofs_api::PoStType::Window => "window".to_string(),
      },
      sector_count: p.sector_count() as u32,
      api_version: p.version().to_string(),
      single_partition_proof_len: p.single_partition_proof_len() as u32,
      circuit_identifier: p.circuit_identifier()?,
    })
  })
}

#[napi(object)]
pub struct UpdateProofInfo {
  pub sector_size: i64,
  /// Partitions of the update SNARK (vanilla partition proofs per sector).
  pub partitions: u32,
  pub api_version: String,
  pub single_partition_proof_len: u32,
}

#[napi(ts_return_type = "Promise<UpdateProofInfo>")]
pub fn update_proof_info(registered_proof: u32) -> AsyncTask<Job<UpdateProofInfo>> {
  const NAME: &str = "update_proof_info";
  let p = match update_proof(registered_proof) {
    Ok(v) => v,
    Err(e) => return failed(NAME, e),
  };
  job(NAME, move || {
    let size = u64::from(p.sector_size());
    Ok(UpdateProofInfo {
      sector_size: size as i64,
      partitions: storage_proofs_update::constants::partition_count((size / 32) as usize) as u32,
      api_version: p.version().to_string(),
      single_partition_proof_len: p.single_partition_proof_len() as u32,
    })
  })
}

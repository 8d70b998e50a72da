//! Empty-sector update ("SnapDeals"): encode data into a CC sector, prove, verify, decode, remove.

use filecoin_proofs_api::update;
use filecoin_proofs_api::PartitionProofBytes;
use napi::bindgen_prelude::{AsyncTask, Uint8Array};
use napi_derive::napi;

use crate::convert::{b32, piece_infos, update_proof, PieceInfoJs};
use crate::task::{failed, job, Job};

/// The update code mmaps its output files read-write without growing them, so each must already
/// exist with the full sector size. Shorter files (for staged data: unwritten tail = zero padding)
/// are extended with zeros.
fn ensure_sector_sized(path: &str, sector_size: u64) -> anyhow::Result<()> {
  use anyhow::Context;
  let f = std::fs::OpenOptions::new()
    .create(true)
    .truncate(false)
    .write(true)
    .open(path)
    .with_context(|| format!("could not open {path}"))?;
  let len = f.metadata()?.len();
  anyhow::ensure!(len <= sector_size, "{path} has {len} bytes, more than the sector size {sector_size}");
  if len < sector_size {
    f.set_len(sector_size)?;
  }
  Ok(())
}

#[napi(object)]
pub struct SnapEncodeOutput {
  pub comm_r_new: Uint8Array,
  pub comm_r_last_new: Uint8Array,
  pub comm_d_new: Uint8Array,
}

/// Encodes the staged data into a copy of the sealed CC sector. `new_replica_path` is created with
/// the sector size, the staged file is zero-extended to the sector size, and `new_cache_path` is
/// created as a directory if missing.
#[napi(ts_return_type = "Promise<SnapEncodeOutput>")]
#[allow(clippy::too_many_arguments)]
pub fn empty_sector_update_encode_into(
  update_proof_type: u32,
  new_replica_path: String,
  new_cache_path: String,
  sector_key_path: String,
  sector_key_cache_path: String,
  staged_data_path: String,
  pieces: Vec<PieceInfoJs>,
) -> AsyncTask<Job<SnapEncodeOutput>> {
  const NAME: &str = "empty_sector_update_encode_into";
  let args = (|| Ok((update_proof(update_proof_type)?, piece_infos(&pieces)?)))();
  let (proof, pieces) = match args {
    Ok(v) => v,
    Err(e) => return failed(NAME, e),
  };
  job(NAME, move || {
    std::fs::create_dir_all(&new_cache_path)?;
    let size = u64::from(proof.sector_size());
    ensure_sector_sized(&new_replica_path, size)?;
    ensure_sector_sized(&staged_data_path, size)?;
    let out = update::empty_sector_update_encode_into(
      proof,
      &new_replica_path,
      &new_cache_path,
      &sector_key_path,
      &sector_key_cache_path,
      &staged_data_path,
      &pieces,
    )?;
    Ok(SnapEncodeOutput {
      comm_r_new: Uint8Array::from(out.comm_r_new.to_vec()),
      comm_r_last_new: Uint8Array::from(out.comm_r_last_new.to_vec()),
      comm_d_new: Uint8Array::from(out.comm_d_new.to_vec()),
    })
  })
}

/// Recovers the staged data of an updated replica into `out_data_path` (created/sized to the sector size).
#[napi(ts_return_type = "Promise<void>")]
pub fn empty_sector_update_decode_from(
  update_proof_type: u32,
  out_data_path: String,
  replica_path: String,
  sector_key_path: String,
  sector_key_cache_path: String,
  comm_d_new: Uint8Array,
) -> AsyncTask<Job<()>> {
  const NAME: &str = "empty_sector_update_decode_from";
  let args = (|| Ok((update_proof(update_proof_type)?, b32("comm_d_new", &comm_d_new)?)))();
  let (proof, comm_d_new) = match args {
    Ok(v) => v,
    Err(e) => return failed(NAME, e),
  };
  job(NAME, move || {
    ensure_sector_sized(&out_data_path, u64::from(proof.sector_size()))?;
    update::empty_sector_update_decode_from(
      proof,
      &out_data_path,
      &replica_path,
      &sector_key_path,
      &sector_key_cache_path,
      comm_d_new,
    )
  })
}

/// Recovers the sector key (the original CC replica) from an updated replica and its data into
/// `sector_key_path` (created if missing); `sector_key_cache_path` receives the rebuilt tree-r-last.
#[napi(ts_return_type = "Promise<void>")]
#[allow(clippy::too_many_arguments)]
pub fn empty_sector_update_remove_encoded_data(
  update_proof_type: u32,
  sector_key_path: String,
  sector_key_cache_path: String,
  replica_path: String,
  replica_cache_path: String,
  data_path: String,
  comm_d_new: Uint8Array,
) -> AsyncTask<Job<()>> {
  const NAME: &str = "empty_sector_update_remove_encoded_data";
  let args = (|| Ok((update_proof(update_proof_type)?, b32("comm_d_new", &comm_d_new)?)))();
  let (proof, comm_d_new) = match args {
    Ok(v) => v,
    Err(e) => return failed(NAME, e),
  };
  job(NAME, move || {
    std::fs::create_dir_all(&sector_key_cache_path)?;
    ensure_sector_sized(&sector_key_path, u64::from(proof.sector_size()))?;
    update::empty_sector_update_remove_encoded_data(
      proof,
      &sector_key_path,
      &sector_key_cache_path,
      &replica_path,
      &replica_cache_path,
      &data_path,
      comm_d_new,
    )
  })
}

/// Vanilla partition proofs of an update (the input of the SNARK step).
#[napi(ts_return_type = "Promise<Uint8Array[]>")]
#[allow(clippy::too_many_arguments)]
pub fn generate_empty_sector_update_partition_proofs(
  update_proof_type: u32,
  comm_r_old: Uint8Array,
  comm_r_new: Uint8Array,
  comm_d_new: Uint8Array,
  sector_key_path: String,
  sector_key_cache_path: String,
  replica_path: String,
  replica_cache_path: String,
) -> AsyncTask<Job<Vec<Uint8Array>>> {
  const NAME: &str = "generate_empty_sector_update_partition_proofs";
  let args = (|| {
    Ok((
      update_proof(update_proof_type)?,
      b32("comm_r_old", &comm_r_old)?,
      b32("comm_r_new", &comm_r_new)?,
      b32("comm_d_new", &comm_d_new)?,
    ))
  })();
  let (proof, r_old, r_new, d_new) = match args {
    Ok(v) => v,
    Err(e) => return failed(NAME, e),
  };
  job(NAME, move || {
    let proofs = update::generate_partition_proofs(
      proof,
      r_old,
      r_new,
      d_new,
      &sector_key_path,
      &sector_key_cache_path,
      &replica_path,
      &replica_cache_path,
    )?;
    Ok(proofs.into_iter().map(|PartitionProofBytes(b)| Uint8Array::from(b)).collect())
  })
}

#[napi(ts_return_type = "Promise<boolean>")]
pub fn verify_empty_sector_update_partition_proofs(
  update_proof_type: u32,
  partition_proofs: Vec<Uint8Array>,
  comm_r_old: Uint8Array,
  comm_r_new: Uint8Array,
  comm_d_new: Uint8Array,
) -> AsyncTask<Job<bool>> {
  const NAME: &str = "verify_empty_sector_update_partition_proofs";
  let args = (|| {
    Ok((
      update_proof(update_proof_type)?,
      b32("comm_r_old", &comm_r_old)?,
      b32("comm_r_new", &comm_r_new)?,
      b32("comm_d_new", &comm_d_new)?,
    ))
  })();
  let (proof, r_old, r_new, d_new) = match args {
    Ok(v) => v,
    Err(e) => return failed(NAME, e),
  };
  let parts: Vec<PartitionProofBytes> =
    partition_proofs.iter().map(|p| PartitionProofBytes(p.to_vec())).collect();
  job(NAME, move || update::verify_partition_proofs(proof, &parts, r_old, r_new, d_new))
}

/// The update SNARK from vanilla partition proofs. Needs the empty-sector-update parameters.
#[napi(ts_return_type = "Promise<Uint8Array>")]
pub fn generate_empty_sector_update_proof_with_vanilla(
  update_proof_type: u32,
  vanilla_proofs: Vec<Uint8Array>,
  comm_r_old: Uint8Array,
  comm_r_new: Uint8Array,
  comm_d_new: Uint8Array,
) -> AsyncTask<Job<Uint8Array>> {
  const NAME: &str = "generate_empty_sector_update_proof_with_vanilla";
  let args = (|| {
    Ok((
      update_proof(update_proof_type)?,
      b32("comm_r_old", &comm_r_old)?,
      b32("comm_r_new", &comm_r_new)?,
      b32("comm_d_new", &comm_d_new)?,
    ))
  })();
  let (proof, r_old, r_new, d_new) = match args {
    Ok(v) => v,
    Err(e) => return failed(NAME, e),
  };
  let parts: Vec<PartitionProofBytes> =
    vanilla_proofs.iter().map(|p| PartitionProofBytes(p.to_vec())).collect();
  job(NAME, move || {
    let out = update::generate_empty_sector_update_proof_with_vanilla(proof, parts, r_old, r_new, d_new)?;
    Ok(Uint8Array::from(out.0))
  })
}

/// The update SNARK straight from the replicas (vanilla proofs generated internally).
#[napi(ts_return_type = "Promise<Uint8Array>")]
#[allow(clippy::too_many_arguments)]
pub fn generate_empty_sector_update_proof(
  update_proof_type: u32,
  comm_r_old: Uint8Array,
  comm_r_new: Uint8Array,
  comm_d_new: Uint8Array,
  sector_key_path: String,
  sector_key_cache_path: String,
  replica_path: String,
  replica_cache_path: String,
) -> AsyncTask<Job<Uint8Array>> {
  const NAME: &str = "generate_empty_sector_update_proof";
  let args = (|| {
    Ok((
      update_proof(update_proof_type)?,
      b32("comm_r_old", &comm_r_old)?,
      b32("comm_r_new", &comm_r_new)?,
      b32("comm_d_new", &comm_d_new)?,
    ))
  })();
  let (proof, r_old, r_new, d_new) = match args {
    Ok(v) => v,
    Err(e) => return failed(NAME, e),
  };
  job(NAME, move || {
    let out = update::generate_empty_sector_update_proof(
      proof,
      r_old,
      r_new,
      d_new,
      &sector_key_path,
      &sector_key_cache_path,
      &replica_path,
      &replica_cache_path,
    )?;
    Ok(Uint8Array::from(out.0))
  })
}

#[napi(ts_return_type = "Promise<boolean>")]
pub fn verify_empty_sector_update_proof(
  update_proof_type: u32,
  proof: Uint8Array,
  comm_r_old: Uint8Array,
  comm_r_new: Uint8Array,
  comm_d_new: Uint8Array,
) -> AsyncTask<Job<bool>> {
  const NAME: &str = "verify_empty_sector_update_proof";
  let args = (|| {
    Ok((
      update_proof(update_proof_type)?,
      b32("comm_r_old", &comm_r_old)?,
      b32("comm_r_new", &comm_r_new)?,
      b32("comm_d_new", &comm_d_new)?,
    ))
  })();
  let (rp, r_old, r_new, d_new) = match args {
    Ok(v) => v,
    Err(e) => return failed(NAME, e),
  };
  let bytes = proof.to_vec();
  job(NAME, move || update::verify_empty_sector_update_proof(rp, &bytes, r_old, r_new, d_new))
}

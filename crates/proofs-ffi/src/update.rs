//! Empty-sector update ("SnapDeals"): encode data into a CC sector, prove, verify, decode, remove.

use anyhow::{ensure, Context, Result};
use filecoin_proofs_api::update;
use filecoin_proofs_api::{Commitment, PartitionProofBytes, RegisteredUpdateProof};
use napi::bindgen_prelude::{AsyncTask, Uint8Array};
use napi_derive::napi;

use crate::convert::{b32, bytes_js, piece_infos, PieceInfoJs};
use crate::registry::WireProof;
use crate::task::{run, Job};

/// The update code mmaps its output files read-write without growing them, so each must already
/// exist with the full sector size. Shorter files (for staged data: unwritten tail = zero padding)
/// are extended with zeros.
fn ensure_sector_sized(path: &str, sector_size: u64) -> Result<()> {
  let f = std::fs::OpenOptions::new()
    .create(true)
    .truncate(false)
    .write(true)
    .open(path)
    .with_context(|| format!("could not open {path}"))?;
  let len = f.metadata()?.len();
  ensure!(len <= sector_size, "{path} has {len} bytes, more than the sector size {sector_size}");
  if len < sector_size {
    f.set_len(sector_size)?;
  }
  Ok(())
}

/// What every update proof and verification is about: the proof type, the sector's old replica
/// commitment and its new replica and data commitments.
struct Update {
  proof: RegisteredUpdateProof,
  comm_r_old: Commitment,
  comm_r_new: Commitment,
  comm_d_new: Commitment,
}

fn update_of(proof: u32, comm_r_old: &[u8], comm_r_new: &[u8], comm_d_new: &[u8]) -> Result<Update> {
  Ok(Update {
    proof: RegisteredUpdateProof::from_wire(proof)?,
    comm_r_old: b32("comm_r_old", comm_r_old)?,
    comm_r_new: b32("comm_r_new", comm_r_new)?,
    comm_d_new: b32("comm_d_new", comm_d_new)?,
  })
}

fn partition_proofs_of(proofs: &[Uint8Array]) -> Vec<PartitionProofBytes> {
  proofs.iter().map(|p| PartitionProofBytes(p.to_vec())).collect()
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
pub fn empty_sector_update_encode_into(
  update_proof_type: u32,
  new_replica_path: String,
  new_cache_path: String,
  sector_key_path: String,
  sector_key_cache_path: String,
  staged_data_path: String,
  pieces: Vec<PieceInfoJs>,
) -> AsyncTask<Job<SnapEncodeOutput>> {
  run(
    "empty_sector_update_encode_into",
    || Ok((RegisteredUpdateProof::from_wire(update_proof_type)?, piece_infos(&pieces)?)),
    move |(proof, pieces)| {
      std::fs::create_dir_all(&new_cache_path)?;
      let size = proof.sector_bytes();
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
        comm_r_new: bytes_js(&out.comm_r_new),
        comm_r_last_new: bytes_js(&out.comm_r_last_new),
        comm_d_new: bytes_js(&out.comm_d_new),
      })
    },
  )
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
  run(
    "empty_sector_update_decode_from",
    || Ok((RegisteredUpdateProof::from_wire(update_proof_type)?, b32("comm_d_new", &comm_d_new)?)),
    move |(proof, comm_d_new)| {
      ensure_sector_sized(&out_data_path, proof.sector_bytes())?;
      update::empty_sector_update_decode_from(
        proof,
        &out_data_path,
        &replica_path,
        &sector_key_path,
        &sector_key_cache_path,
        comm_d_new,
      )
    },
  )
}

/// Recovers the sector key (the original CC replica) from an updated replica and its data into
/// `sector_key_path` (created if missing); `sector_key_cache_path` receives the rebuilt tree-r-last.
#[napi(ts_return_type = "Promise<void>")]
pub fn empty_sector_update_remove_encoded_data(
  update_proof_type: u32,
  sector_key_path: String,
  sector_key_cache_path: String,
  replica_path: String,
  replica_cache_path: String,
  data_path: String,
  comm_d_new: Uint8Array,
) -> AsyncTask<Job<()>> {
  run(
    "empty_sector_update_remove_encoded_data",
    || Ok((RegisteredUpdateProof::from_wire(update_proof_type)?, b32("comm_d_new", &comm_d_new)?)),
    move |(proof, comm_d_new)| {
      std::fs::create_dir_all(&sector_key_cache_path)?;
      ensure_sector_sized(&sector_key_path, proof.sector_bytes())?;
      update::empty_sector_update_remove_encoded_data(
        proof,
        &sector_key_path,
        &sector_key_cache_path,
        &replica_path,
        &replica_cache_path,
        &data_path,
        comm_d_new,
      )
    },
  )
}

/// Vanilla partition proofs of an update (the input of the SNARK step).
#[napi(ts_return_type = "Promise<Uint8Array[]>")]
// Positional like the filecoin-proofs-api call it wraps (which allows the same lint); `#[expect]`
// cannot be used: napi-derive copies it onto its generated glue, where it goes unfulfilled.
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
  run(
    "generate_empty_sector_update_partition_proofs",
    || update_of(update_proof_type, &comm_r_old, &comm_r_new, &comm_d_new),
    move |u| {
      let proofs = update::generate_partition_proofs(
        u.proof,
        u.comm_r_old,
        u.comm_r_new,
        u.comm_d_new,
        &sector_key_path,
        &sector_key_cache_path,
        &replica_path,
        &replica_cache_path,
      )?;
      Ok(proofs.into_iter().map(|PartitionProofBytes(b)| Uint8Array::from(b)).collect())
    },
  )
}

#[napi(ts_return_type = "Promise<boolean>")]
pub fn verify_empty_sector_update_partition_proofs(
  update_proof_type: u32,
  partition_proofs: Vec<Uint8Array>,
  comm_r_old: Uint8Array,
  comm_r_new: Uint8Array,
  comm_d_new: Uint8Array,
) -> AsyncTask<Job<bool>> {
  run(
    "verify_empty_sector_update_partition_proofs",
    || {
      Ok((update_of(update_proof_type, &comm_r_old, &comm_r_new, &comm_d_new)?, partition_proofs_of(&partition_proofs)))
    },
    |(u, parts)| update::verify_partition_proofs(u.proof, &parts, u.comm_r_old, u.comm_r_new, u.comm_d_new),
  )
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
  run(
    "generate_empty_sector_update_proof_with_vanilla",
    || Ok((update_of(update_proof_type, &comm_r_old, &comm_r_new, &comm_d_new)?, partition_proofs_of(&vanilla_proofs))),
    |(u, parts)| {
      let out = update::generate_empty_sector_update_proof_with_vanilla(
        u.proof,
        parts,
        u.comm_r_old,
        u.comm_r_new,
        u.comm_d_new,
      )?;
      Ok(Uint8Array::from(out.0))
    },
  )
}

/// The update SNARK straight from the replicas (vanilla proofs generated internally).
#[napi(ts_return_type = "Promise<Uint8Array>")]
// Positional like the filecoin-proofs-api call it wraps (which allows the same lint); `#[expect]`
// cannot be used: napi-derive copies it onto its generated glue, where it goes unfulfilled.
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
  run(
    "generate_empty_sector_update_proof",
    || update_of(update_proof_type, &comm_r_old, &comm_r_new, &comm_d_new),
    move |u| {
      let out = update::generate_empty_sector_update_proof(
        u.proof,
        u.comm_r_old,
        u.comm_r_new,
        u.comm_d_new,
        &sector_key_path,
        &sector_key_cache_path,
        &replica_path,
        &replica_cache_path,
      )?;
      Ok(Uint8Array::from(out.0))
    },
  )
}

#[napi(ts_return_type = "Promise<boolean>")]
pub fn verify_empty_sector_update_proof(
  update_proof_type: u32,
  proof: Uint8Array,
  comm_r_old: Uint8Array,
  comm_r_new: Uint8Array,
  comm_d_new: Uint8Array,
) -> AsyncTask<Job<bool>> {
  run(
    "verify_empty_sector_update_proof",
    || Ok((update_of(update_proof_type, &comm_r_old, &comm_r_new, &comm_d_new)?, proof.to_vec())),
    |(u, bytes)| update::verify_empty_sector_update_proof(u.proof, &bytes, u.comm_r_old, u.comm_r_new, u.comm_d_new),
  )
}

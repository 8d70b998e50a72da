//! Pieces, sealing (PC1/PC2/C1/C2), verification, cache cleanup and unsealing.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::{ensure, Context};
use filecoin_proofs::{
  commitment_from_fr, get_base_tree_leafs, get_base_tree_size, DefaultBinaryTree, DefaultPieceHasher, StoreConfig,
};
use filecoin_proofs_api::seal::{self, SealCommitPhase1Output, SealPreCommitPhase1Output, SealPreCommitPhase2Output};
use filecoin_proofs_api::{RegisteredSealProof, UnpaddedByteIndex, UnpaddedBytesAmount};
use napi::bindgen_prelude::{AsyncTask, Uint8Array};
use napi_derive::napi;
use storage_proofs_core::cache_key::CacheKey;
use storage_proofs_core::merkle::{create_base_merkle_tree, BinaryMerkleTree};

use crate::convert::{b32, bytes_js, i64_of, piece_info_js, piece_infos, sector_id, u64_of, u64s, PieceInfoJs};
use crate::registry::WireProof;
use crate::task::{run, Job};

/// Result of writing one piece into a staged (unsealed) sector file.
#[napi(object)]
pub struct AddPieceResult {
  pub piece: PieceInfoJs,
  /// Unpadded bytes written, including the left/right alignment padding.
  pub written: i64,
}

/// Appends one piece to `staged_path` (created if missing), with the alignment padding the sector
/// layout needs, and returns its commitment. `source_path` null means a pledge (all-zero) piece.
/// `existing_piece_sizes` are the unpadded sizes of the pieces already in the file, in order.
#[napi(ts_return_type = "Promise<AddPieceResult>")]
pub fn add_piece(
  registered_proof: u32,
  source_path: Option<String>,
  staged_path: String,
  piece_size: i64,
  existing_piece_sizes: Vec<i64>,
) -> AsyncTask<Job<AddPieceResult>> {
  run(
    "add_piece",
    || {
      Ok((
        RegisteredSealProof::from_wire(registered_proof)?,
        u64_of("piece size", piece_size)?,
        u64s("existing piece size", &existing_piece_sizes)?.into_iter().map(UnpaddedBytesAmount).collect::<Vec<_>>(),
      ))
    },
    move |(proof, size, existing)| {
      let target = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&staged_path)
        .with_context(|| format!("could not open staged file {staged_path}"))?;
      let (info, written) = match source_path {
        Some(path) => {
          let source = File::open(&path).with_context(|| format!("could not open piece file {path}"))?;
          let len = source.metadata()?.len();
          ensure!(len <= size, "piece file {path} has {len} bytes, more than the piece size {size}");
          // A data file shorter than its piece is zero-filled to the piece size, as deals are.
          let reader = source.chain(io::repeat(0)).take(size);
          seal::add_piece(proof, reader, target, UnpaddedBytesAmount(size), &existing)?
        }
        None => seal::add_piece(proof, io::repeat(0).take(size), target, UnpaddedBytesAmount(size), &existing)?,
      };
      Ok(AddPieceResult { piece: piece_info_js(&info), written: i64_of(u64::from(written)) })
    },
  )
}

/// CommP of `piece_size` unpadded bytes read from `path` (zero-filled past its end).
#[napi(ts_return_type = "Promise<PieceInfoJs>")]
pub fn generate_piece_commitment(registered_proof: u32, path: String, piece_size: i64) -> AsyncTask<Job<PieceInfoJs>> {
  run(
    "generate_piece_commitment",
    || Ok((RegisteredSealProof::from_wire(registered_proof)?, u64_of("piece size", piece_size)?)),
    move |(proof, size)| {
      let source = File::open(&path).with_context(|| format!("could not open piece file {path}"))?;
      let reader = source.chain(io::repeat(0)).take(size);
      let info = seal::generate_piece_commitment(proof, reader, UnpaddedBytesAmount(size))?;
      Ok(piece_info_js(&info))
    },
  )
}

/// CommD (unsealed sector commitment) from the sector's pieces, filling the rest with zero pieces.
#[napi(ts_return_type = "Promise<Uint8Array>")]
pub fn compute_comm_d(registered_proof: u32, pieces: Vec<PieceInfoJs>) -> AsyncTask<Job<Uint8Array>> {
  run(
    "compute_comm_d",
    || Ok((RegisteredSealProof::from_wire(registered_proof)?, piece_infos(&pieces)?)),
    |(proof, pieces)| Ok(bytes_js(&seal::compute_comm_d(proof, &pieces)?)),
  )
}

/// Builds tree-d (`sc-02-data-tree-d.dat`) over the staged file into `cache_dir` and returns CommD.
/// PC1 builds the same tree again; this stage exists so CommD can be checked before sealing.
#[napi(ts_return_type = "Promise<Uint8Array>")]
pub fn generate_tree_d(registered_proof: u32, staged_path: String, cache_dir: String) -> AsyncTask<Job<Uint8Array>> {
  run(
    "generate_tree_d",
    || RegisteredSealProof::from_wire(registered_proof),
    move |proof| {
      let sector_size = proof.sector_size();
      let padded = u64::from(sector_size);
      let meta = std::fs::metadata(&staged_path).with_context(|| format!("could not read {staged_path}"))?;
      ensure!(
        meta.len() <= padded,
        "staged file {staged_path} has {} bytes, more than the sector size {padded}",
        meta.len()
      );
      std::fs::create_dir_all(&cache_dir)?;
      let mut data = Vec::with_capacity(padded as usize);
      File::open(&staged_path)?.read_to_end(&mut data)?;
      data.resize(padded as usize, 0);
      let base_tree_size = get_base_tree_size::<DefaultBinaryTree>(sector_size)?;
      let base_tree_leafs = get_base_tree_leafs::<DefaultBinaryTree>(base_tree_size)?;
      let config = StoreConfig::new(Path::new(&cache_dir), CacheKey::CommDTree.to_string(), 0);
      let tree = create_base_merkle_tree::<BinaryMerkleTree<DefaultPieceHasher>>(Some(config), base_tree_leafs, &data)?;
      Ok(bytes_js(&commitment_from_fr(tree.root().into())))
    },
  )
}

/// PC1. `out_path` is created empty if it does not exist (the library requires an existing file).
/// Returns the phase-1 output as JSON (filecoin-proofs-api serde form).
#[napi(ts_return_type = "Promise<string>")]
// Positional like the filecoin-proofs-api call it wraps (which allows the same lint); `#[expect]`
// cannot be used: napi-derive copies it onto its generated glue, where it goes unfulfilled.
#[allow(clippy::too_many_arguments)]
pub fn seal_pre_commit_phase1(
  registered_proof: u32,
  cache_path: String,
  in_path: String,
  out_path: String,
  prover_id: Uint8Array,
  sector_number: i64,
  ticket: Uint8Array,
  pieces: Vec<PieceInfoJs>,
) -> AsyncTask<Job<String>> {
  run(
    "seal_pre_commit_phase1",
    || {
      Ok((
        RegisteredSealProof::from_wire(registered_proof)?,
        b32("prover_id", &prover_id)?,
        sector_id(sector_number)?,
        b32("ticket", &ticket)?,
        piece_infos(&pieces)?,
      ))
    },
    move |(proof, prover_id, sector, ticket, pieces)| {
      std::fs::create_dir_all(&cache_path)?;
      if !Path::new(&out_path).exists() {
        File::create(&out_path).with_context(|| format!("could not create {out_path}"))?;
      }
      let out =
        seal::seal_pre_commit_phase1(proof, &cache_path, &in_path, &out_path, prover_id, sector, ticket, &pieces)?;
      Ok(serde_json::to_string(&out)?)
    },
  )
}

/// PC2 output: the replica and data commitments.
#[napi(object)]
pub struct PreCommitOutput {
  pub registered_proof: u32,
  pub comm_r: Uint8Array,
  pub comm_d: Uint8Array,
}

#[napi(ts_return_type = "Promise<PreCommitOutput>")]
pub fn seal_pre_commit_phase2(
  phase1_output_json: String,
  cache_path: String,
  out_path: String,
) -> AsyncTask<Job<PreCommitOutput>> {
  run(
    "seal_pre_commit_phase2",
    || Ok(()),
    move |()| {
      let p1: SealPreCommitPhase1Output =
        serde_json::from_str(&phase1_output_json).context("invalid phase-1 output JSON")?;
      let registered_proof = p1.registered_proof;
      let out = seal::seal_pre_commit_phase2(p1, &cache_path, &out_path)?;
      Ok(PreCommitOutput {
        registered_proof: registered_proof.wire(),
        comm_r: bytes_js(&out.comm_r),
        comm_d: bytes_js(&out.comm_d),
      })
    },
  )
}

/// C1. Returns the phase-1 commit output as JSON (filecoin-proofs-api serde form).
#[napi(ts_return_type = "Promise<string>")]
// Positional like the filecoin-proofs-api call it wraps (which allows the same lint); `#[expect]`
// cannot be used: napi-derive copies it onto its generated glue, where it goes unfulfilled.
#[allow(clippy::too_many_arguments)]
pub fn seal_commit_phase1(
  registered_proof: u32,
  cache_path: String,
  replica_path: String,
  prover_id: Uint8Array,
  sector_number: i64,
  ticket: Uint8Array,
  seed: Uint8Array,
  comm_r: Uint8Array,
  comm_d: Uint8Array,
  pieces: Vec<PieceInfoJs>,
) -> AsyncTask<Job<String>> {
  run(
    "seal_commit_phase1",
    || {
      Ok((
        RegisteredSealProof::from_wire(registered_proof)?,
        b32("prover_id", &prover_id)?,
        sector_id(sector_number)?,
        b32("ticket", &ticket)?,
        b32("seed", &seed)?,
        b32("comm_r", &comm_r)?,
        b32("comm_d", &comm_d)?,
        piece_infos(&pieces)?,
      ))
    },
    move |(proof, prover_id, sector, ticket, seed, comm_r, comm_d, pieces)| {
      let pre_commit = SealPreCommitPhase2Output { registered_proof: proof, comm_r, comm_d };
      let out = seal::seal_commit_phase1(
        PathBuf::from(cache_path),
        PathBuf::from(replica_path),
        prover_id,
        sector,
        ticket,
        seed,
        pre_commit,
        &pieces,
      )?;
      Ok(serde_json::to_string(&out)?)
    },
  )
}

/// C2: the SNARK. Needs the PoRep parameters for the sector size.
#[napi(ts_return_type = "Promise<Uint8Array>")]
pub fn seal_commit_phase2(
  phase1_output_json: String,
  prover_id: Uint8Array,
  sector_number: i64,
) -> AsyncTask<Job<Uint8Array>> {
  run(
    "seal_commit_phase2",
    || Ok((b32("prover_id", &prover_id)?, sector_id(sector_number)?)),
    move |(prover_id, sector)| {
      let c1: SealCommitPhase1Output =
        serde_json::from_str(&phase1_output_json).context("invalid commit phase-1 output JSON")?;
      let out = seal::seal_commit_phase2(c1, prover_id, sector)?;
      Ok(Uint8Array::from(out.proof))
    },
  )
}

#[napi(ts_return_type = "Promise<boolean>")]
// Positional like the filecoin-proofs-api call it wraps (which allows the same lint); `#[expect]`
// cannot be used: napi-derive copies it onto its generated glue, where it goes unfulfilled.
#[allow(clippy::too_many_arguments)]
pub fn verify_seal(
  registered_proof: u32,
  comm_r: Uint8Array,
  comm_d: Uint8Array,
  prover_id: Uint8Array,
  sector_number: i64,
  ticket: Uint8Array,
  seed: Uint8Array,
  proof: Uint8Array,
) -> AsyncTask<Job<bool>> {
  run(
    "verify_seal",
    || {
      Ok((
        RegisteredSealProof::from_wire(registered_proof)?,
        b32("comm_r", &comm_r)?,
        b32("comm_d", &comm_d)?,
        b32("prover_id", &prover_id)?,
        sector_id(sector_number)?,
        b32("ticket", &ticket)?,
        b32("seed", &seed)?,
        proof.to_vec(),
      ))
    },
    |(rp, comm_r, comm_d, prover_id, sector, ticket, seed, proof)| {
      seal::verify_seal(rp, comm_r, comm_d, prover_id, sector, ticket, seed, &proof)
    },
  )
}

/// Deletes what sealing no longer needs (layers, tree-c, tree-d); keeps p_aux, t_aux and
/// tree-r-last, which PoSt and snap updates read.
#[napi(ts_return_type = "Promise<void>")]
pub fn clear_cache(cache_path: String) -> AsyncTask<Job<()>> {
  run("clear_cache", || Ok(()), move |()| seal::clear_cache(Path::new(&cache_path)))
}

/// Unseals `num_bytes` unpadded bytes starting at unpadded `offset` into `output_path` (created or
/// truncated). Returns the number of bytes written.
#[napi(ts_return_type = "Promise<number>")]
// Positional like the filecoin-proofs-api call it wraps (which allows the same lint); `#[expect]`
// cannot be used: napi-derive copies it onto its generated glue, where it goes unfulfilled.
#[allow(clippy::too_many_arguments)]
pub fn unseal_range(
  registered_proof: u32,
  cache_path: String,
  sealed_path: String,
  output_path: String,
  prover_id: Uint8Array,
  sector_number: i64,
  comm_d: Uint8Array,
  ticket: Uint8Array,
  offset: i64,
  num_bytes: i64,
) -> AsyncTask<Job<i64>> {
  run(
    "unseal_range",
    || {
      Ok((
        RegisteredSealProof::from_wire(registered_proof)?,
        b32("prover_id", &prover_id)?,
        sector_id(sector_number)?,
        b32("comm_d", &comm_d)?,
        b32("ticket", &ticket)?,
        u64_of("offset", offset)?,
        u64_of("num_bytes", num_bytes)?,
      ))
    },
    move |(proof, prover_id, sector, comm_d, ticket, offset, num_bytes)| {
      let sealed = File::open(&sealed_path).with_context(|| format!("could not open sealed file {sealed_path}"))?;
      let mut output = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&output_path)
        .with_context(|| format!("could not create {output_path}"))?;
      output.seek(SeekFrom::Start(0))?;
      let n = seal::unseal_range(
        proof,
        PathBuf::from(cache_path),
        sealed,
        &output,
        prover_id,
        sector,
        comm_d,
        ticket,
        UnpaddedByteIndex(offset),
        UnpaddedBytesAmount(num_bytes),
      )?;
      output.sync_all()?;
      Ok(i64_of(u64::from(n)))
    },
  )
}

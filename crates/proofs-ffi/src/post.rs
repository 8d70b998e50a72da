//! WinningPoSt and WindowPoSt: challenges, vanilla proofs, SNARKs, partition merge, verification.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{ensure, Result};
use filecoin_proofs_api::post;
use filecoin_proofs_api::{
  ChallengeSeed, PartitionSnarkProof, PrivateReplicaInfo, ProverId, PublicReplicaInfo, RegisteredPoStProof, SectorId,
  StorageProofsError,
};
use napi::bindgen_prelude::{AsyncTask, Uint8Array};
use napi_derive::napi;

use crate::convert::{b32, byte_vecs, i64_of, sector_id, sector_ids, u64_of, u64s};
use crate::registry::WireProof;
use crate::task::{run, Job};

/// A sealed sector as the prover sees it.
#[napi(object)]
pub struct PrivateReplicaJs {
  pub sector_number: i64,
  pub comm_r: Uint8Array,
  pub cache_dir: String,
  pub sealed_path: String,
}

/// A sealed sector as the verifier sees it.
#[napi(object)]
pub struct PublicReplicaJs {
  pub sector_number: i64,
  pub comm_r: Uint8Array,
}

/// One SNARK proof tagged with its PoSt proof type.
#[napi(object)]
pub struct PoStProofJs {
  pub post_proof: u32,
  pub proof: Uint8Array,
}

#[napi(object)]
pub struct SectorChallenges {
  pub sector_number: i64,
  pub challenges: Vec<i64>,
}

#[napi(object)]
pub struct WindowPoStResult {
  /// Empty when every sector is faulty.
  pub proofs: Vec<PoStProofJs>,
  /// Sector numbers that could not be proven (missing/corrupt sealed file or cache); the proofs
  /// cover the remaining sectors only.
  pub faults: Vec<i64>,
}

/// What most PoSt calls start with: the proof type, the (canonical) randomness and the prover id.
struct PoSt {
  proof: RegisteredPoStProof,
  randomness: ChallengeSeed,
  prover_id: ProverId,
}

fn post_of(proof: u32, randomness: &[u8], prover_id: &[u8]) -> Result<PoSt> {
  Ok(PoSt {
    proof: RegisteredPoStProof::from_wire(proof)?,
    randomness: b32("randomness", randomness)?,
    prover_id: b32("prover_id", prover_id)?,
  })
}

type Private = Vec<(SectorId, PrivateRaw)>;

struct PrivateRaw {
  comm_r: [u8; 32],
  cache_dir: PathBuf,
  sealed_path: PathBuf,
}

fn private_replicas(replicas: &[PrivateReplicaJs]) -> Result<Private> {
  replicas
    .iter()
    .enumerate()
    .map(|(i, r)| {
      Ok((
        sector_id(r.sector_number)?,
        PrivateRaw {
          comm_r: b32(&format!("replicas[{i}].comm_r"), &r.comm_r)?,
          cache_dir: PathBuf::from(&r.cache_dir),
          sealed_path: PathBuf::from(&r.sealed_path),
        },
      ))
    })
    .collect()
}

fn private_map(proof: RegisteredPoStProof, replicas: &Private) -> BTreeMap<SectorId, PrivateReplicaInfo> {
  replicas
    .iter()
    .map(|(id, r)| (*id, PrivateReplicaInfo::new(proof, r.comm_r, r.cache_dir.clone(), r.sealed_path.clone())))
    .collect()
}

fn public_map(
  proof: RegisteredPoStProof,
  replicas: &[PublicReplicaJs],
) -> Result<BTreeMap<SectorId, PublicReplicaInfo>> {
  replicas
    .iter()
    .enumerate()
    .map(|(i, r)| {
      Ok((
        sector_id(r.sector_number)?,
        PublicReplicaInfo::new(proof, b32(&format!("replicas[{i}].comm_r"), &r.comm_r)?),
      ))
    })
    .collect()
}

fn proof_js(proof: RegisteredPoStProof, bytes: Vec<u8>) -> PoStProofJs {
  PoStProofJs { post_proof: proof.wire(), proof: Uint8Array::from(bytes) }
}

fn proofs_js(proofs: Vec<(RegisteredPoStProof, Vec<u8>)>) -> Vec<PoStProofJs> {
  proofs.into_iter().map(|(p, bytes)| proof_js(p, bytes)).collect()
}

/// Indices (into the caller's sector list of `sector_set_len`) challenged for WinningPoSt.
#[napi(ts_return_type = "Promise<number[]>")]
pub fn generate_winning_post_sector_challenge(
  post_proof_type: u32,
  randomness: Uint8Array,
  sector_set_len: i64,
  prover_id: Uint8Array,
) -> AsyncTask<Job<Vec<i64>>> {
  run(
    "generate_winning_post_sector_challenge",
    || {
      Ok((
        RegisteredPoStProof::from_wire(post_proof_type)?,
        b32("randomness", &randomness)?,
        u64_of("sector_set_len", sector_set_len)?,
        b32("prover_id", &prover_id)?,
      ))
    },
    |(proof, randomness, len, prover_id)| {
      let idx = post::generate_winning_post_sector_challenge(proof, &randomness, len, prover_id)?;
      Ok(idx.into_iter().map(i64_of).collect())
    },
  )
}

#[napi(ts_return_type = "Promise<PoStProofJs[]>")]
pub fn generate_winning_post(
  post_proof_type: u32,
  randomness: Uint8Array,
  prover_id: Uint8Array,
  replicas: Vec<PrivateReplicaJs>,
) -> AsyncTask<Job<Vec<PoStProofJs>>> {
  run(
    "generate_winning_post",
    || Ok((post_of(post_proof_type, &randomness, &prover_id)?, private_replicas(&replicas)?)),
    |(p, replicas)| {
      let map = private_map(p.proof, &replicas);
      Ok(proofs_js(post::generate_winning_post(&p.randomness, &map, p.prover_id)?))
    },
  )
}

#[napi(ts_return_type = "Promise<PoStProofJs[]>")]
pub fn generate_winning_post_with_vanilla(
  post_proof_type: u32,
  randomness: Uint8Array,
  prover_id: Uint8Array,
  vanilla_proofs: Vec<Uint8Array>,
) -> AsyncTask<Job<Vec<PoStProofJs>>> {
  run(
    "generate_winning_post_with_vanilla",
    || Ok((post_of(post_proof_type, &randomness, &prover_id)?, byte_vecs(&vanilla_proofs))),
    |(p, vanilla)| {
      let proofs = post::generate_winning_post_with_vanilla(p.proof, &p.randomness, p.prover_id, &vanilla)?;
      Ok(proofs_js(proofs))
    },
  )
}

#[napi(ts_return_type = "Promise<boolean>")]
pub fn verify_winning_post(
  post_proof_type: u32,
  randomness: Uint8Array,
  prover_id: Uint8Array,
  proof: Uint8Array,
  replicas: Vec<PublicReplicaJs>,
) -> AsyncTask<Job<bool>> {
  run(
    "verify_winning_post",
    || {
      let p = post_of(post_proof_type, &randomness, &prover_id)?;
      let map = public_map(p.proof, &replicas)?;
      Ok((p, map, proof.to_vec()))
    },
    |(p, map, proof)| post::verify_winning_post(&p.randomness, &proof, &map, p.prover_id),
  )
}

/// Per-sector challenge indices for fallback (Window/Winning) PoSt, for vanilla-proof workflows.
#[napi(ts_return_type = "Promise<SectorChallenges[]>")]
pub fn generate_fallback_sector_challenges(
  post_proof_type: u32,
  randomness: Uint8Array,
  sector_numbers: Vec<i64>,
  prover_id: Uint8Array,
) -> AsyncTask<Job<Vec<SectorChallenges>>> {
  run(
    "generate_fallback_sector_challenges",
    || {
      Ok((
        RegisteredPoStProof::from_wire(post_proof_type)?,
        b32("randomness", &randomness)?,
        sector_ids(&sector_numbers)?,
        b32("prover_id", &prover_id)?,
      ))
    },
    |(proof, randomness, sectors, prover_id)| {
      let map = post::generate_fallback_sector_challenges(proof, &randomness, &sectors, prover_id)?;
      Ok(
        map
          .into_iter()
          .map(|(id, ch)| SectorChallenges {
            sector_number: i64_of(u64::from(id)),
            challenges: ch.into_iter().map(i64_of).collect(),
          })
          .collect(),
      )
    },
  )
}

#[napi(ts_return_type = "Promise<Uint8Array>")]
pub fn generate_single_vanilla_proof(
  post_proof_type: u32,
  replica: PrivateReplicaJs,
  challenges: Vec<i64>,
) -> AsyncTask<Job<Uint8Array>> {
  run(
    "generate_single_vanilla_proof",
    || {
      Ok((
        RegisteredPoStProof::from_wire(post_proof_type)?,
        private_replicas(std::slice::from_ref(&replica))?,
        u64s("challenge", &challenges)?,
      ))
    },
    |(proof, replicas, challenges)| {
      let map = private_map(proof, &replicas);
      let (id, info) = map.iter().next().expect("one replica");
      Ok(Uint8Array::from(post::generate_single_vanilla_proof(proof, *id, info, &challenges)?))
    },
  )
}

/// Finds sectors that cannot be proven: vanilla proof generation over the sector's own challenges
/// fails for a missing/corrupt replica or cache (the library reports these as errors, not faults).
fn find_faults(p: &PoSt, map: &BTreeMap<SectorId, PrivateReplicaInfo>) -> Vec<SectorId> {
  let mut faults = Vec::new();
  for (id, info) in map {
    let ok = post::generate_fallback_sector_challenges(p.proof, &p.randomness, &[*id], p.prover_id).and_then(|ch| {
      let challenges = ch.get(id).cloned().unwrap_or_default();
      post::generate_single_vanilla_proof(p.proof, *id, info, &challenges)
    });
    if let Err(err) = ok {
      log::warn!("window post: sector {} is faulty: {:#}", u64::from(*id), err);
      faults.push(*id);
    }
  }
  faults
}

/// WindowPoSt over `replicas`, leaving out the sectors that cannot be proven (returned as faults).
fn prove_window(p: &PoSt, replicas: &Private) -> Result<WindowPoStResult> {
  ensure!(!replicas.is_empty(), "no replicas supplied");
  let mut map = private_map(p.proof, replicas);
  let mut faults: Vec<SectorId> = Vec::new();
  // Happy path first (no extra reads). On failure, find the sectors at fault — the library names
  // bad inclusion proofs itself (FaultySectors) but reports unreadable replicas as plain errors, so
  // probe each sector with a vanilla proof — drop them and retry. Each round removes at least one
  // sector; an error no sector explains is returned as is.
  let proofs = loop {
    if map.is_empty() {
      break Vec::new();
    }
    match post::generate_window_post(&p.randomness, &map, p.prover_id) {
      Ok(proofs) => break proofs,
      Err(err) => {
        let found = match err.downcast_ref::<StorageProofsError>() {
          Some(StorageProofsError::FaultySectors(more)) if !more.is_empty() => more.clone(),
          _ => find_faults(p, &map),
        };
        let before = faults.len();
        for id in found {
          if map.remove(&id).is_some() {
            faults.push(id);
          }
        }
        if faults.len() == before {
          return Err(err);
        }
      }
    }
  };
  faults.sort();
  faults.dedup();
  Ok(WindowPoStResult {
    proofs: proofs_js(proofs),
    faults: faults.into_iter().map(|id| i64_of(u64::from(id))).collect(),
  })
}

/// WindowPoSt over `replicas`. Sectors that cannot be read are reported in `faults` and left out; the
/// returned proofs cover the rest (which is what the chain expects after declaring those faults).
#[napi(ts_return_type = "Promise<WindowPoStResult>")]
pub fn generate_window_post(
  post_proof_type: u32,
  randomness: Uint8Array,
  prover_id: Uint8Array,
  replicas: Vec<PrivateReplicaJs>,
) -> AsyncTask<Job<WindowPoStResult>> {
  run(
    "generate_window_post",
    || Ok((post_of(post_proof_type, &randomness, &prover_id)?, private_replicas(&replicas)?)),
    |(p, replicas)| prove_window(&p, &replicas),
  )
}

#[napi(ts_return_type = "Promise<PoStProofJs[]>")]
pub fn generate_window_post_with_vanilla(
  post_proof_type: u32,
  randomness: Uint8Array,
  prover_id: Uint8Array,
  vanilla_proofs: Vec<Uint8Array>,
) -> AsyncTask<Job<Vec<PoStProofJs>>> {
  run(
    "generate_window_post_with_vanilla",
    || Ok((post_of(post_proof_type, &randomness, &prover_id)?, byte_vecs(&vanilla_proofs))),
    |(p, vanilla)| {
      let proofs = post::generate_window_post_with_vanilla(p.proof, &p.randomness, p.prover_id, &vanilla)?;
      Ok(proofs_js(proofs))
    },
  )
}

/// The SNARK for one partition, from that partition's vanilla proofs.
#[napi(ts_return_type = "Promise<PoStProofJs>")]
pub fn generate_single_window_post_with_vanilla(
  post_proof_type: u32,
  randomness: Uint8Array,
  prover_id: Uint8Array,
  vanilla_proofs: Vec<Uint8Array>,
  partition_index: u32,
) -> AsyncTask<Job<PoStProofJs>> {
  run(
    "generate_single_window_post_with_vanilla",
    || Ok((post_of(post_proof_type, &randomness, &prover_id)?, byte_vecs(&vanilla_proofs))),
    move |(p, vanilla)| {
      let PartitionSnarkProof(bytes) = post::generate_single_window_post_with_vanilla(
        p.proof,
        &p.randomness,
        p.prover_id,
        &vanilla,
        partition_index as usize,
      )?;
      Ok(proof_js(p.proof, bytes))
    },
  )
}

/// Concatenates per-partition SNARKs (in partition order) into one WindowPoSt proof.
#[napi(ts_return_type = "Promise<PoStProofJs>")]
pub fn merge_window_post_partition_proofs(
  post_proof_type: u32,
  partition_proofs: Vec<Uint8Array>,
) -> AsyncTask<Job<PoStProofJs>> {
  run(
    "merge_window_post_partition_proofs",
    || {
      let proof = RegisteredPoStProof::from_wire(post_proof_type)?;
      let parts: Vec<PartitionSnarkProof> = byte_vecs(&partition_proofs).into_iter().map(PartitionSnarkProof).collect();
      Ok((proof, parts))
    },
    |(proof, parts)| Ok(proof_js(proof, post::merge_window_post_partition_proofs(proof, parts)?)),
  )
}

#[napi(ts_return_type = "Promise<number>")]
pub fn get_num_partition_for_fallback_post(post_proof_type: u32, num_sectors: u32) -> AsyncTask<Job<i64>> {
  run(
    "get_num_partition_for_fallback_post",
    || RegisteredPoStProof::from_wire(post_proof_type),
    move |proof| Ok(post::get_num_partition_for_fallback_post(proof, num_sectors as usize)? as i64),
  )
}

#[napi(ts_return_type = "Promise<boolean>")]
pub fn verify_window_post(
  randomness: Uint8Array,
  prover_id: Uint8Array,
  proofs: Vec<PoStProofJs>,
  replicas: Vec<PublicReplicaJs>,
) -> AsyncTask<Job<bool>> {
  run(
    "verify_window_post",
    || {
      ensure!(!proofs.is_empty(), "no proofs supplied");
      let first = RegisteredPoStProof::from_wire(proofs[0].post_proof)?;
      let tagged = proofs
        .iter()
        .map(|p| Ok((RegisteredPoStProof::from_wire(p.post_proof)?, p.proof.to_vec())))
        .collect::<Result<Vec<_>>>()?;
      Ok((b32("randomness", &randomness)?, b32("prover_id", &prover_id)?, tagged, public_map(first, &replicas)?))
    },
    |(randomness, prover_id, tagged, map)| {
      let refs: Vec<(RegisteredPoStProof, &[u8])> = tagged.iter().map(|(p, b)| (*p, b.as_slice())).collect();
      post::verify_window_post(&randomness, &refs, &map, prover_id)
    },
  )
}

//! Registered proof types: their wire integers and what they mean (sizes, partitions, versions,
//! parameter ids).
//!
//! The wire integer of a type is its position in `WireProof::ALL`: the abi enum order
//! (abi.RegisteredSealProof 0..19, RegisteredPoStProof 0..14, RegisteredUpdateProof 0..4), which is
//! also filecoin-proofs-api's variant order. The TypeScript side's one table of these types is
//! src/core/sector/proof.ts; tests/proofs/addon.test.ts checks that both agree id by id.

use anyhow::{anyhow, Result};
use filecoin_proofs_api::{ApiVersion, PoStType, RegisteredPoStProof, RegisteredSealProof, RegisteredUpdateProof};
use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;

use crate::convert::i64_of;
use crate::task::{run, Job};

/// A registered proof enum of filecoin-proofs-api that travels as its wire integer.
pub trait WireProof: Copy + PartialEq + 'static {
  /// Every variant, in wire order.
  const ALL: &'static [Self];
  /// The enum's name in messages: "unknown registered <WHAT> proof 42".
  const WHAT: &'static str;

  fn sector_bytes(self) -> u64;

  fn from_wire(id: u32) -> Result<Self> {
    Self::ALL
      .get(id as usize)
      .copied()
      .ok_or_else(|| anyhow!("unknown registered {} proof {id} (expected 0..{})", Self::WHAT, Self::ALL.len() - 1))
  }

  fn wire(self) -> u32 {
    Self::ALL.iter().position(|p| *p == self).expect("every variant is listed in wire order") as u32
  }

  /// The variant of `sector_bytes` among those `pick` accepts.
  fn of_size(sector_bytes: u64, pick: impl Fn(Self) -> bool) -> Option<Self> {
    Self::ALL.iter().copied().find(|p| p.sector_bytes() == sector_bytes && pick(*p))
  }
}

impl WireProof for RegisteredSealProof {
  const ALL: &'static [Self] = {
    use RegisteredSealProof::*;
    &[
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
  const WHAT: &'static str = "seal";

  fn sector_bytes(self) -> u64 {
    u64::from(self.sector_size())
  }
}

impl WireProof for RegisteredPoStProof {
  const ALL: &'static [Self] = {
    use RegisteredPoStProof::*;
    &[
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
  const WHAT: &'static str = "PoSt";

  fn sector_bytes(self) -> u64 {
    u64::from(self.sector_size())
  }
}

impl WireProof for RegisteredUpdateProof {
  const ALL: &'static [Self] = {
    use RegisteredUpdateProof::*;
    &[StackedDrg2KiBV1, StackedDrg8MiBV1, StackedDrg512MiBV1, StackedDrg32GiBV1, StackedDrg64GiBV1]
  };
  const WHAT: &'static str = "update";

  fn sector_bytes(self) -> u64 {
    u64::from(self.sector_size())
  }
}

/// The proof types whose circuits are generated for a sector size (see params.rs).
pub struct CurrentProofs {
  /// PoRep V1_1.
  pub porep: RegisteredSealProof,
  /// WinningPoSt V1.
  pub winning_post: RegisteredPoStProof,
  /// WindowPoSt V1_2.
  pub window_post: RegisteredPoStProof,
}

pub fn current_proofs(sector_bytes: u64) -> Result<CurrentProofs> {
  let unsupported =
    || anyhow!("unsupported sector size {sector_bytes} (expected one of 2KiB, 8MiB, 512MiB, 32GiB, 64GiB)");
  let seal =
    RegisteredSealProof::of_size(sector_bytes, |p| p.version() == ApiVersion::V1_1_0).ok_or_else(unsupported)?;
  let winning = RegisteredPoStProof::of_size(sector_bytes, |p| p.typ() == PoStType::Winning).ok_or_else(unsupported)?;
  let window =
    RegisteredPoStProof::of_size(sector_bytes, |p| p.typ() == PoStType::Window && p.version() == ApiVersion::V1_2_0)
      .ok_or_else(unsupported)?;
  Ok(CurrentProofs { porep: seal, winning_post: winning, window_post: window })
}

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
  run(
    "seal_proof_info",
    || RegisteredSealProof::from_wire(registered_proof),
    |p| {
      Ok(SealProofInfo {
        sector_size: i64_of(p.sector_bytes()),
        partitions: p.partitions() as u32,
        api_version: p.version().to_string(),
        single_partition_proof_len: p.single_partition_proof_len() as u32,
        circuit_identifier: p.circuit_identifier()?,
      })
    },
  )
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
  run(
    "post_proof_info",
    || RegisteredPoStProof::from_wire(registered_proof),
    |p| {
      Ok(PoStProofInfo {
        sector_size: i64_of(p.sector_bytes()),
        kind: match p.typ() {
          PoStType::Winning => "winning".to_string(),
          PoStType::Window => "window".to_string(),
        },
        sector_count: p.sector_count() as u32,
        api_version: p.version().to_string(),
        single_partition_proof_len: p.single_partition_proof_len() as u32,
        circuit_identifier: p.circuit_identifier()?,
      })
    },
  )
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
  run(
    "update_proof_info",
    || RegisteredUpdateProof::from_wire(registered_proof),
    |p| {
      let size = p.sector_bytes();
      Ok(UpdateProofInfo {
        sector_size: i64_of(size),
        partitions: storage_proofs_update::constants::partition_count((size / 32) as usize) as u32,
        api_version: p.version().to_string(),
        single_partition_proof_len: p.single_partition_proof_len() as u32,
      })
    },
  )
}

//! What a persisted replica's cache says about the replica, read without the proofs library's settings.

use anyhow::{ensure, Result};
use blstrs::Scalar as Fr;
use ff::PrimeField;
use filecoin_hashers::poseidon::{PoseidonDomain, PoseidonFunction};
use filecoin_hashers::{Domain, HashFunction};
use napi::bindgen_prelude::Uint8Array;
use napi::{Error, Status};
use napi_derive::napi;

use crate::convert::bytes_js;

/// The CommR a sector's `p_aux` file commits to. p_aux is the bincode form of the stacked DRG's
/// PersistentAux { comm_c, comm_r_last }, two 32-byte field elements, and CommR = Poseidon(comm_c,
/// comm_r_last), as the library derives it. A worker compares it with a sector's on-chain CommR before it
/// replaces a persisted replica, so it never overwrites the replica of another sealing. Synchronous: it is
/// one hash over 64 bytes, touches no file and no `FIL_PROOFS_*` setting.
#[napi]
pub fn comm_r_from_p_aux(p_aux: Uint8Array) -> napi::Result<Uint8Array> {
  comm_r_of(&p_aux)
    .map(|comm_r| bytes_js(&comm_r))
    .map_err(|err| Error::new(Status::InvalidArg, format!("comm_r_from_p_aux: {err:#}")))
}

fn field(name: &str, raw: &[u8]) -> Result<PoseidonDomain> {
  let mut repr = <Fr as PrimeField>::Repr::default();
  repr.copy_from_slice(raw);
  let fr: Option<Fr> = Fr::from_repr_vartime(repr);
  match fr {
    Some(fr) => Ok(PoseidonDomain::from(fr)),
    None => anyhow::bail!("{name} is not a field element (the p_aux file is damaged)"),
  }
}

fn comm_r_of(p_aux: &[u8]) -> Result<Vec<u8>> {
  ensure!(p_aux.len() == 64, "p_aux must hold 64 bytes (comm_c and comm_r_last), it holds {}", p_aux.len());
  let comm_c = field("comm_c", &p_aux[..32])?;
  let comm_r_last = field("comm_r_last", &p_aux[32..])?;
  Ok(PoseidonFunction::hash2(&comm_c, &comm_r_last).into_bytes())
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn refuses_a_short_or_damaged_p_aux() {
    assert!(comm_r_of(&[0u8; 63]).is_err());
    // 0xff..ff is above the field modulus: no field element has these bytes.
    let mut bad = [0u8; 64];
    bad[..32].fill(0xff);
    assert!(comm_r_of(&bad).unwrap_err().to_string().contains("comm_c is not a field element"));
  }

  #[test]
  fn hashes_two_field_elements() {
    let zeros = comm_r_of(&[0u8; 64]).unwrap();
    assert_eq!(zeros.len(), 32);
    let mut other = [0u8; 64];
    other[32] = 1;
    assert_ne!(comm_r_of(&other).unwrap(), zeros);
  }
}

//! Groth16 parameters for small sectors, generated locally and deterministically from a seed.
//!
//! This reproduces what rust-fil-proofs' `paramcache` does, with three differences:
//! - the target directory is an argument (never the library's `FIL_PROOFS_PARAMETER_CACHE`), and files
//!   are written into a temporary directory and renamed into place, so a crash never leaves a partial
//!   file that later looks present (the library would then fail with "memory map must have a
//!   non-zero length" or read past the end);
//! - the RNG is an `XorShiftRng` seeded from sha256(seed, cache id), so two machines given the same
//!   seed produce byte-identical `.params`/`.vk` files (a devnet's workers and verifiers agree);
//! - every circuit also gets a small manifest (`v28-<id>.damocles.json`: sizes and sha256 of its
//!   files) so `check` can tell a truncated file from a complete one without reading it all.
//!
//! File names are the standard v28 names the library looks up: `v28-<cache id>.{params,vk,meta}`.
//! Locally generated parameters are a private trusted setup: fine for devnets and tests, useless for
//! mainnet.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use bellperson::groth16;
use bellperson::Circuit;
use blstrs::{Bls12, Scalar as Fr};
use filecoin_proofs::parameters::{public_params, window_post_public_params, winning_post_public_params};
use filecoin_proofs::{with_shape, DefaultPieceHasher, MerkleTreeTrait};
use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;
use rand::SeedableRng;
use rand_xorshift::XorShiftRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use storage_proofs_core::compound_proof::CompoundProof;
use storage_proofs_core::parameter_cache::{CacheableParameters, VERSION};
use storage_proofs_porep::stacked::{StackedCircuit, StackedCompound, StackedDrg};
use storage_proofs_post::fallback::{FallbackPoSt, FallbackPoStCircuit, FallbackPoStCompound};
use storage_proofs_update::constants::TreeRHasher;
use storage_proofs_update::{EmptySectorUpdate, EmptySectorUpdateCircuit, EmptySectorUpdateCompound};

use crate::convert::{i64_of, u64_of};
use crate::registry::current_proofs;
use crate::task::{run, Job};

/// Prefix of the per-generation temporary directories (swept by the TS layer when stale).
pub const TMP_PREFIX: &str = ".damocles-params-tmp-";

pub const KINDS: [&str; 4] = ["porep", "winning-post", "window-post", "empty-sector-update"];

const G1_LEN: u64 = 96;
const G2_LEN: u64 = 192;
/// alpha_g1, beta_g1, beta_g2, gamma_g2, delta_g1, delta_g2 (uncompressed).
const VK_FIXED_LEN: u64 = 3 * G1_LEN + 3 * G2_LEN;

/// The cache id of one circuit (the part between `v28-` and the extension).
fn cache_id<Tree>(size: u64, kind: &str) -> Result<String>
where
  Tree: 'static + MerkleTreeTrait<Hasher = TreeRHasher>,
{
  match kind {
    "porep" => {
      let pp = public_params::<Tree>(&current_proofs(size)?.porep.as_v1_config())?;
      Ok(<StackedCompound<Tree, DefaultPieceHasher> as CacheableParameters<
        StackedCircuit<Tree, DefaultPieceHasher>,
        _,
      >>::cache_identifier(&pp))
    }
    "winning-post" => {
      let pp = winning_post_public_params::<Tree>(&current_proofs(size)?.winning_post.as_v1_config())?;
      Ok(<FallbackPoStCompound<Tree> as CacheableParameters<FallbackPoStCircuit<Tree>, _>>::cache_identifier(&pp))
    }
    "window-post" => {
      let pp = window_post_public_params::<Tree>(&current_proofs(size)?.window_post.as_v1_config())?;
      Ok(<FallbackPoStCompound<Tree> as CacheableParameters<FallbackPoStCircuit<Tree>, _>>::cache_identifier(&pp))
    }
    "empty-sector-update" => {
      let pp = storage_proofs_update::PublicParams::from_sector_size(size);
      Ok(<EmptySectorUpdateCompound<Tree> as CacheableParameters<
        EmptySectorUpdateCircuit<Tree>,
        storage_proofs_update::PublicParams,
      >>::cache_identifier(&pp))
    }
    other => bail!("unknown circuit {other:?} (expected one of {})", KINDS.join(", ")),
  }
}

/// Synthesizes the blank circuit of `kind` and runs the Groth16 setup with `rng`.
fn generate_parameters<Tree>(size: u64, kind: &str, rng: &mut XorShiftRng) -> Result<groth16::Parameters<Bls12>>
where
  Tree: 'static + MerkleTreeTrait<Hasher = TreeRHasher>,
{
  fn setup<C: Circuit<Fr>>(circuit: C, rng: &mut XorShiftRng) -> Result<groth16::Parameters<Bls12>> {
    Ok(groth16::generate_random_parameters::<Bls12, _, _>(circuit, rng)?)
  }
  match kind {
    "porep" => {
      let pp = public_params::<Tree>(&current_proofs(size)?.porep.as_v1_config())?;
      let circuit = <StackedCompound<Tree, DefaultPieceHasher> as CompoundProof<
        StackedDrg<'_, Tree, DefaultPieceHasher>,
        _,
      >>::blank_circuit(&pp);
      setup(circuit, rng)
    }
    "winning-post" => {
      let pp = winning_post_public_params::<Tree>(&current_proofs(size)?.winning_post.as_v1_config())?;
      let circuit =
        <FallbackPoStCompound<Tree> as CompoundProof<FallbackPoSt<'_, Tree>, FallbackPoStCircuit<Tree>>>::blank_circuit(
          &pp,
        );
      setup(circuit, rng)
    }
    "window-post" => {
      let pp = window_post_public_params::<Tree>(&current_proofs(size)?.window_post.as_v1_config())?;
      let circuit =
        <FallbackPoStCompound<Tree> as CompoundProof<FallbackPoSt<'_, Tree>, FallbackPoStCircuit<Tree>>>::blank_circuit(
          &pp,
        );
      setup(circuit, rng)
    }
    "empty-sector-update" => {
      let pp = storage_proofs_update::PublicParams::from_sector_size(size);
      let circuit = <EmptySectorUpdateCompound<Tree> as CompoundProof<
        EmptySectorUpdate<Tree>,
        EmptySectorUpdateCircuit<Tree>,
      >>::blank_circuit(&pp);
      setup(circuit, rng)
    }
    other => bail!("unknown circuit {other:?}"),
  }
}

fn cache_id_for(size: u64, kind: &str) -> Result<String> {
  current_proofs(size)?;
  with_shape!(size, cache_id, size, kind)
}

fn file_names(id: &str) -> [String; 4] {
  [
    format!("v{VERSION}-{id}.params"),
    format!("v{VERSION}-{id}.vk"),
    format!("v{VERSION}-{id}.meta"),
    format!("v{VERSION}-{id}.damocles.json"),
  ]
}

/// One circuit's expected files.
#[napi(object)]
pub struct ParamCircuit {
  /// "porep" | "winning-post" | "window-post" | "empty-sector-update"
  pub circuit: String,
  pub cache_id: String,
  pub params_file: String,
  pub vk_file: String,
  pub meta_file: String,
  pub manifest_file: String,
}

fn circuit_entry(size: u64, kind: &str) -> Result<ParamCircuit> {
  let id = cache_id_for(size, kind)?;
  let [params_file, vk_file, meta_file, manifest_file] = file_names(&id);
  Ok(ParamCircuit { circuit: kind.to_string(), cache_id: id, params_file, vk_file, meta_file, manifest_file })
}

/// `kinds` as given, or every circuit when empty.
fn kinds_or_all(kinds: Vec<String>) -> Vec<String> {
  if kinds.is_empty() {
    KINDS.iter().map(|k| k.to_string()).collect()
  } else {
    kinds
  }
}

/// The circuits (and their file names) a sector size needs, for the given kinds (all when empty).
#[napi(ts_return_type = "Promise<ParamCircuit[]>")]
pub fn params_expected(sector_size: i64, kinds: Vec<String>) -> AsyncTask<Job<Vec<ParamCircuit>>> {
  run(
    "params_expected",
    || u64_of("sector size", sector_size),
    |size| kinds_or_all(kinds).iter().map(|k| circuit_entry(size, k)).collect(),
  )
}

#[derive(Serialize, Deserialize, Clone)]
struct ManifestFile {
  name: String,
  size: u64,
  sha256: String,
}

#[derive(Serialize, Deserialize)]
struct Manifest {
  generator: String,
  circuit: String,
  cache_id: String,
  sector_size: u64,
  /// sha256 of the seed string: identifies the setup without storing the seed.
  seed_fingerprint: String,
  generated_at_unix: u64,
  generation_seconds: f64,
  files: Vec<ManifestFile>,
}

#[napi(object)]
pub struct GeneratedFile {
  pub name: String,
  pub size: i64,
  pub sha256: String,
}

#[napi(object)]
pub struct GenerateResult {
  pub circuit: String,
  pub cache_id: String,
  pub seconds: f64,
  pub files: Vec<GeneratedFile>,
}

struct HashingWriter<W: Write> {
  inner: W,
  hasher: Sha256,
  written: u64,
}

impl<W: Write> Write for HashingWriter<W> {
  fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
    let n = self.inner.write(buf)?;
    self.hasher.update(&buf[..n]);
    self.written += n as u64;
    Ok(n)
  }
  fn flush(&mut self) -> io::Result<()> {
    self.inner.flush()
  }
}

fn write_file(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<ManifestFile> {
  let file = OpenOptions::new()
    .create_new(true)
    .write(true)
    .open(path)
    .with_context(|| format!("could not create {}", path.display()))?;
  let mut w = HashingWriter { inner: BufWriter::with_capacity(1 << 20, file), hasher: Sha256::new(), written: 0 };
  write(&mut w).with_context(|| format!("could not write {}", path.display()))?;
  w.flush()?;
  let HashingWriter { inner, hasher, written } = w;
  let file = inner.into_inner().map_err(|e| anyhow!("could not flush {}: {}", path.display(), e.error()))?;
  file.sync_all()?;
  Ok(ManifestFile {
    name: path.file_name().expect("file name").to_string_lossy().into_owned(),
    size: written,
    sha256: hex::encode(hasher.finalize()),
  })
}

pub fn seed_bytes(seed: &str, cache_id: &str) -> [u8; 16] {
  let mut h = Sha256::new();
  h.update(b"damocles/params/v1\0");
  h.update(seed.as_bytes());
  h.update(b"\0");
  h.update(cache_id.as_bytes());
  let digest = h.finalize();
  let mut out = [0u8; 16];
  out.copy_from_slice(&digest[..16]);
  out
}

/// Removes the temporary directory unless the generation got to the end.
struct TmpDir(PathBuf);
impl Drop for TmpDir {
  fn drop(&mut self) {
    let _ = fs::remove_dir_all(&self.0);
  }
}

fn generate_one(dir: &Path, size: u64, kind: &str, seed: &str) -> Result<GenerateResult> {
  let id = cache_id_for(size, kind)?;
  fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
  let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
  let tmp = TmpDir(dir.join(format!("{TMP_PREFIX}{}-{}-{}", id, std::process::id(), nanos)));
  fs::create_dir(&tmp.0).with_context(|| format!("could not create {}", tmp.0.display()))?;

  let start = Instant::now();
  let mut rng = XorShiftRng::from_seed(seed_bytes(seed, &id));
  let params = with_shape!(size, generate_parameters, size, kind, &mut rng)?;
  let [params_name, vk_name, meta_name, manifest_name] = file_names(&id);

  let params_file = write_file(&tmp.0.join(&params_name), |w| params.write(w))?;
  let vk_file = write_file(&tmp.0.join(&vk_name), |w| params.vk.write(w))?;
  drop(params);
  // Same content as the library's CacheEntryMetadata.
  let meta_file = write_file(&tmp.0.join(&meta_name), |w| {
    serde_json::to_writer(w, &serde_json::json!({ "sector_size": size })).map_err(io::Error::other)
  })?;
  let seconds = start.elapsed().as_secs_f64();

  let files = vec![params_file, vk_file, meta_file];
  let manifest = Manifest {
    generator: format!("damocles-proofs-ffi {}", env!("CARGO_PKG_VERSION")),
    circuit: kind.to_string(),
    cache_id: id.clone(),
    sector_size: size,
    seed_fingerprint: hex::encode(Sha256::digest(seed.as_bytes())),
    generated_at_unix: SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs(),
    generation_seconds: seconds,
    files: files.clone(),
  };
  write_file(&tmp.0.join(&manifest_name), |w| serde_json::to_writer_pretty(w, &manifest).map_err(io::Error::other))?;

  // The manifest goes last: a complete manifest means every file before it is complete.
  for name in [&params_name, &vk_name, &meta_name, &manifest_name] {
    fs::rename(tmp.0.join(name), dir.join(name))
      .with_context(|| format!("could not move {} into {}", name, dir.display()))?;
  }
  File::open(dir)?.sync_all()?;

  Ok(GenerateResult {
    circuit: kind.to_string(),
    cache_id: id,
    seconds,
    files: files.into_iter().map(|f| GeneratedFile { name: f.name, size: i64_of(f.size), sha256: f.sha256 }).collect(),
  })
}

/// Generates one circuit's `.params`, `.vk`, `.meta` (and manifest) into `dir`, replacing whatever
/// is there. Deterministic for a given (seed, sector size, circuit). Minutes of CPU and GiBs of RAM.
#[napi(ts_return_type = "Promise<GenerateResult>")]
pub fn params_generate(dir: String, sector_size: i64, circuit: String, seed: String) -> AsyncTask<Job<GenerateResult>> {
  run(
    "params_generate",
    || u64_of("sector size", sector_size),
    move |size| generate_one(Path::new(&dir), size, &circuit, &seed),
  )
}

/// State of one expected file.
#[napi(object)]
pub struct ParamFileStatus {
  pub name: String,
  /// "params" | "vk" | "meta"
  pub role: String,
  /// The library cannot prove/verify without it (`.meta` is informational).
  pub required: bool,
  /// "present" | "missing" | "empty" | "truncated" | "corrupt"
  pub status: String,
  pub size: i64,
  /// Size the file must have, from the manifest or the file's own headers; -1 if unknown.
  pub expected_size: i64,
  pub detail: String,
}

#[napi(object)]
pub struct ParamCircuitStatus {
  pub circuit: String,
  pub cache_id: String,
  /// Manifest written by `params generate`; absent for parameters from elsewhere.
  pub has_manifest: bool,
  pub seed_fingerprint: Option<String>,
  pub files: Vec<ParamFileStatus>,
}

fn read_u32_at(f: &mut File, offset: u64) -> io::Result<u32> {
  f.seek(SeekFrom::Start(offset))?;
  let mut b = [0u8; 4];
  f.read_exact(&mut b)?;
  Ok(u32::from_be_bytes(b))
}

/// Size a `.vk` (at offset 0) or `.params` file must have, from its own length headers. `Err` when
/// a header lies beyond the end of the file (i.e. the file is truncated before it).
fn structural_size(path: &Path, params: bool) -> io::Result<u64> {
  let mut f = File::open(path)?;
  let mut offset = VK_FIXED_LEN;
  let ic = read_u32_at(&mut f, offset)? as u64;
  offset += 4 + ic * G1_LEN;
  if !params {
    return Ok(offset);
  }
  // h, l, a, b_g1 (G1 points), then b_g2 (G2 points).
  for elem in [G1_LEN, G1_LEN, G1_LEN, G1_LEN, G2_LEN] {
    let n = read_u32_at(&mut f, offset)? as u64;
    offset += 4 + n * elem;
  }
  Ok(offset)
}

fn sha256_file(path: &Path) -> io::Result<String> {
  let mut f = File::open(path)?;
  let mut h = Sha256::new();
  let mut buf = vec![0u8; 1 << 20];
  loop {
    let n = f.read(&mut buf)?;
    if n == 0 {
      break;
    }
    h.update(&buf[..n]);
  }
  Ok(hex::encode(h.finalize()))
}

fn inspect_file(
  dir: &Path,
  name: &str,
  role: &str,
  size_of_sector: u64,
  manifest: Option<&Manifest>,
  verify_hashes: bool,
) -> ParamFileStatus {
  let path = dir.join(name);
  let required = role != "meta";
  let mut st = ParamFileStatus {
    name: name.to_string(),
    role: role.to_string(),
    required,
    status: "present".to_string(),
    size: 0,
    expected_size: -1,
    detail: String::new(),
  };
  let meta = match fs::metadata(&path) {
    Ok(m) => m,
    Err(_) => {
      st.status = "missing".into();
      return st;
    }
  };
  st.size = i64_of(meta.len());
  let recorded = manifest.and_then(|m| m.files.iter().find(|f| f.name == name));
  if let Some(r) = recorded {
    st.expected_size = i64_of(r.size);
  }
  if meta.len() == 0 {
    st.status = "empty".into();
    st.detail = "zero-length file (an interrupted download or generation)".into();
    return st;
  }
  match role {
    "params" | "vk" => match structural_size(&path, role == "params") {
      Ok(expected) => {
        if st.expected_size < 0 {
          st.expected_size = i64_of(expected);
        }
        if meta.len() < expected {
          st.status = "truncated".into();
          st.detail = format!("{} of {} bytes", meta.len(), expected);
          return st;
        }
        if meta.len() > expected {
          st.status = "corrupt".into();
          st.detail = format!("{} bytes, headers describe {}", meta.len(), expected);
          return st;
        }
      }
      Err(_) => {
        st.status = "truncated".into();
        st.detail = format!("{} bytes: ends inside its headers", meta.len());
        return st;
      }
    },
    _ => match fs::read(&path).ok().and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok()) {
      Some(v) if v.get("sector_size").and_then(|s| s.as_u64()) == Some(size_of_sector) => {}
      Some(_) => {
        st.status = "corrupt".into();
        st.detail = format!("does not record sector_size {size_of_sector}");
        return st;
      }
      None => {
        st.status = "corrupt".into();
        st.detail = "not valid JSON".into();
        return st;
      }
    },
  }
  if let Some(r) = recorded {
    if meta.len() < r.size {
      st.status = "truncated".into();
      st.detail = format!("{} of {} bytes (manifest)", meta.len(), r.size);
      return st;
    }
    if meta.len() != r.size {
      st.status = "corrupt".into();
      st.detail = format!("{} bytes, manifest records {}", meta.len(), r.size);
      return st;
    }
    if verify_hashes {
      match sha256_file(&path) {
        Ok(h) if h == r.sha256 => {}
        Ok(_) => {
          st.status = "corrupt".into();
          st.detail = "sha256 differs from the manifest".into();
          return st;
        }
        Err(e) => {
          st.status = "corrupt".into();
          st.detail = format!("unreadable: {e}");
          return st;
        }
      }
    }
  }
  if role == "vk" {
    // Point decoding catches garbage that happens to have a plausible length.
    if let Err(e) = File::open(&path).and_then(groth16::VerifyingKey::<Bls12>::read) {
      st.status = "corrupt".into();
      st.detail = format!("verifying key does not parse: {e}");
    }
  }
  st
}

fn inspect(dir: &Path, size: u64, kinds: &[String], verify_hashes: bool) -> Result<Vec<ParamCircuitStatus>> {
  kinds
    .iter()
    .map(|kind| {
      let c = circuit_entry(size, kind)?;
      let manifest: Option<Manifest> =
        fs::read(dir.join(&c.manifest_file)).ok().and_then(|b| serde_json::from_slice(&b).ok());
      let files = [(&c.params_file, "params"), (&c.vk_file, "vk"), (&c.meta_file, "meta")]
        .into_iter()
        .map(|(name, role)| inspect_file(dir, name, role, size, manifest.as_ref(), verify_hashes))
        .collect();
      Ok(ParamCircuitStatus {
        circuit: c.circuit,
        cache_id: c.cache_id,
        has_manifest: manifest.is_some(),
        seed_fingerprint: manifest.map(|m| m.seed_fingerprint),
        files,
      })
    })
    .collect()
}

/// Checks the expected files of `kinds` (all when empty) in `dir` without loading them: presence,
/// zero length, truncation (manifest sizes or the files' own headers), a parseable `.vk`, and with
/// `verify_hashes` the manifest sha256 (reads every byte).
#[napi(ts_return_type = "Promise<ParamCircuitStatus[]>")]
pub fn params_inspect(
  dir: String,
  sector_size: i64,
  kinds: Vec<String>,
  verify_hashes: bool,
) -> AsyncTask<Job<Vec<ParamCircuitStatus>>> {
  run(
    "params_inspect",
    || u64_of("sector size", sector_size),
    move |size| inspect(Path::new(&dir), size, &kinds_or_all(kinds), verify_hashes),
  )
}

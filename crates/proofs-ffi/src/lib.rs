#![deny(clippy::all)]
// napi-derive compiles its export registration out under `cfg(test)`, so in the test build
// (`clippy --all-targets`) every exported function and everything it alone uses looks unused.
#![cfg_attr(test, allow(dead_code))]
//! napi-rs bindings over filecoin-proofs-api for damocles.
//!
//! Every proof function returns a promise built by `task::run`: its arguments are converted on the JS
//! thread (`convert.rs`, `registry.rs`), the work runs on napi's worker pool inside `catch_unwind`, and
//! failures of either reject with the library's message. Only `configure`, `addon_info` and
//! `comm_r_from_p_aux` are synchronous: they touch nothing but process state (or 64 bytes).

mod convert;
mod limits;
mod mempolicy;
mod params;
mod post;
mod proof_log;
mod registry;
mod replica;
mod seal;
mod task;
mod update;

use std::sync::atomic::Ordering;

use napi::{Error, Status};
use napi_derive::napi;

use crate::task::PROOFS_USED;

/// Settings rust-fil-proofs reads once per process (lazy `SETTINGS`) from `FIL_PROOFS_*`.
/// `None` leaves the process environment as it is.
#[napi(object)]
pub struct ProofsConfig {
  /// FIL_PROOFS_PARAMETER_CACHE: where `.params`/`.vk` files are read.
  pub parameter_cache: Option<String>,
  /// FIL_PROOFS_PARENT_CACHE: where SDR parent caches are written/read.
  pub parent_cache: Option<String>,
  /// FIL_PROOFS_USE_MULTICORE_SDR (effective only in builds with the `multicore-sdr` feature).
  pub use_multicore_sdr: Option<bool>,
  /// Forward the library's `log` records to stderr at this level: error|warn|info|debug|trace.
  pub log_level: Option<String>,
}

#[napi(object)]
pub struct EffectiveConfig {
  pub parameter_cache: String,
  pub parent_cache: String,
  pub use_multicore_sdr: bool,
  /// True once a proof call ran: the settings are fixed for the life of the process.
  pub locked: bool,
}

fn env_or(key: &str, default: &str) -> String {
  std::env::var(key).unwrap_or_else(|_| default.to_string())
}

fn effective() -> EffectiveConfig {
  let cache_dir = env_or("FIL_PROOFS_CACHE_DIR", "/var/tmp/");
  EffectiveConfig {
    parameter_cache: env_or("FIL_PROOFS_PARAMETER_CACHE", "/var/tmp/filecoin-proof-parameters/"),
    parent_cache: env_or(
      "FIL_PROOFS_PARENT_CACHE",
      &std::path::Path::new(&cache_dir).join("filecoin-parents").to_string_lossy(),
    ),
    use_multicore_sdr: matches!(
      std::env::var("FIL_PROOFS_USE_MULTICORE_SDR").as_deref(),
      Ok("1") | Ok("true") | Ok("TRUE") | Ok("True")
    ),
    locked: PROOFS_USED.load(Ordering::SeqCst),
  }
}

/// Puts `FIL_PROOFS_*` settings into this process's environment (visible to the library, unlike
/// `process.env` assignments under Bun). Must run before the first proof call; afterwards it only
/// accepts the values already in force and fails otherwise.
#[napi]
pub fn configure(config: ProofsConfig) -> napi::Result<EffectiveConfig> {
  let wanted: Vec<(&str, String)> = [
    ("FIL_PROOFS_PARAMETER_CACHE", config.parameter_cache),
    ("FIL_PROOFS_PARENT_CACHE", config.parent_cache),
    ("FIL_PROOFS_USE_MULTICORE_SDR", config.use_multicore_sdr.map(|b| if b { "1" } else { "0" }.to_string())),
  ]
  .into_iter()
  .filter_map(|(k, v)| v.map(|v| (k, v)))
  .collect();

  if PROOFS_USED.load(Ordering::SeqCst) {
    for (key, value) in &wanted {
      if std::env::var(key).ok().as_deref() != Some(value.as_str()) {
        return Err(Error::new(
          Status::GenericFailure,
          format!(
            "cannot set {key}={value}: the proofs library already read its settings in this process \
             (configure before the first proof call, or start a new process with the variable set)"
          ),
        ));
      }
    }
  } else {
    for (key, value) in &wanted {
      // Single-threaded as far as the proofs library is concerned: nothing has started yet.
      std::env::set_var(key, value);
    }
  }
  if let Some(level) = config.log_level.as_deref() {
    proof_log::set_stderr_level(level)?;
  }
  Ok(effective())
}

#[napi(object)]
pub struct AddonInfo {
  pub version: String,
  /// Cargo features compiled in ("cuda", "multicore-sdr").
  pub features: Vec<String>,
  pub config: EffectiveConfig,
}

#[napi]
pub fn addon_info() -> AddonInfo {
  let mut features = Vec::new();
  if cfg!(feature = "cuda") {
    features.push("cuda".to_string());
  }
  if cfg!(feature = "multicore-sdr") {
    features.push("multicore-sdr".to_string());
  }
  AddonInfo { version: env!("CARGO_PKG_VERSION").to_string(), features, config: effective() }
}

/// Test hook: a job that panics, to prove panics become rejected promises rather than aborts.
#[napi(ts_return_type = "Promise<void>")]
pub fn debug_panic(message: String) -> napi::bindgen_prelude::AsyncTask<task::Job<()>> {
  task::run("debug_panic", || Ok(()), move |()| -> anyhow::Result<()> { panic!("{}", message) })
}

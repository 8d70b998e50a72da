//! The proofs library's `log` records, timestamped: forwarded to stderr (`configure({ logLevel })`) and/or
//! recorded into a bounded buffer that JS drains (`recordProofLogs` / `drainProofLogs`). rust-fil-proofs and
//! bellperson mark the phases of every proof at info level ("vanilla_proofs:start", "snark_proof:finish",
//! "read parameters from cache", bellperson's "synthesis time"/"prover time"), so the timestamps are what
//! splits a proof's time into parameter loading, vanilla proving and the SNARK (src/core/proofs/phases.ts).
//!
//! One logger serves both sinks; `log::max_level` is the more verbose of the two, so a process with neither
//! pays for no formatting.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use log::LevelFilter;
use napi::{Error, Status};
use napi_derive::napi;

/// Records kept before the oldest are dropped (a drained bench stage holds a few dozen; a 8MiB seal at info
/// level a few hundred). Dropped records are counted, never silently lost.
const MAX_RECORDS: usize = 100_000;

/// One log record of the proofs library.
#[napi(object)]
pub struct ProofLogRecord {
  /// Milliseconds since the addon's clock started (`proofLogClockMs` reads the same clock).
  pub t_ms: f64,
  /// error | warn | info | debug | trace
  pub level: String,
  /// The emitting module, e.g. "storage_proofs_core::compound_proof".
  pub target: String,
  pub message: String,
  /// The OS thread's name or id: records of concurrent proofs can be told apart.
  pub thread: String,
}

#[napi(object)]
pub struct ProofLogDrain {
  pub records: Vec<ProofLogRecord>,
  /// Records dropped since the last drain because the buffer was full.
  pub dropped: u32,
}

struct Sinks {
  stderr: LevelFilter,
  record: LevelFilter,
}

static SINKS: Mutex<Sinks> = Mutex::new(Sinks { stderr: LevelFilter::Off, record: LevelFilter::Off });
static RECORDS: Mutex<VecDeque<ProofLogRecord>> = Mutex::new(VecDeque::new());
static DROPPED: AtomicUsize = AtomicUsize::new(0);
/// `LevelFilter as usize` of each sink, read on every record without taking the lock.
static STDERR_LEVEL: AtomicUsize = AtomicUsize::new(0);
static RECORD_LEVEL: AtomicUsize = AtomicUsize::new(0);
static INSTALLED: OnceLock<()> = OnceLock::new();
static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

fn epoch() -> Instant {
  static EPOCH: OnceLock<Instant> = OnceLock::new();
  *EPOCH.get_or_init(Instant::now)
}

fn elapsed_ms() -> f64 {
  epoch().elapsed().as_secs_f64() * 1000.0
}

fn thread_label() -> String {
  thread_local! {
    static ID: u64 = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);
  }
  let current = std::thread::current();
  match current.name() {
    Some(name) => name.to_string(),
    None => format!("t{}", ID.with(|id| *id)),
  }
}

struct ProofsLogger;

impl log::Log for ProofsLogger {
  fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
    let level = metadata.level() as usize;
    level <= STDERR_LEVEL.load(Ordering::Relaxed) || level <= RECORD_LEVEL.load(Ordering::Relaxed)
  }

  fn log(&self, record: &log::Record<'_>) {
    let level = record.level() as usize;
    let to_stderr = level <= STDERR_LEVEL.load(Ordering::Relaxed);
    let to_buffer = level <= RECORD_LEVEL.load(Ordering::Relaxed);
    if !to_stderr && !to_buffer {
      return;
    }
    let t_ms = elapsed_ms();
    let message = record.args().to_string();
    if to_stderr {
      // "+SECONDS" makes the stream parseable the same way the buffer is.
      eprintln!("[proofs +{:.3}s {} {}] {}", t_ms / 1000.0, record.level(), record.target(), message);
    }
    if to_buffer {
      let entry = ProofLogRecord {
        t_ms,
        level: record.level().as_str().to_ascii_lowercase(),
        target: record.target().to_string(),
        message,
        thread: thread_label(),
      };
      let mut records = RECORDS.lock().unwrap_or_else(|e| e.into_inner());
      if records.len() >= MAX_RECORDS {
        records.pop_front();
        DROPPED.fetch_add(1, Ordering::Relaxed);
      }
      records.push_back(entry);
    }
  }

  fn flush(&self) {}
}

fn parse_level(level: &str) -> napi::Result<LevelFilter> {
  level.parse().map_err(|_| {
    Error::new(Status::InvalidArg, format!("invalid log level {level:?}: use off|error|warn|info|debug|trace"))
  })
}

/// Applies both sinks' levels; installs the logger the first time one is on.
fn apply(sinks: &Sinks) {
  STDERR_LEVEL.store(sinks.stderr as usize, Ordering::Relaxed);
  RECORD_LEVEL.store(sinks.record as usize, Ordering::Relaxed);
  let max = sinks.stderr.max(sinks.record);
  if max != LevelFilter::Off {
    INSTALLED.get_or_init(|| {
      static LOGGER: ProofsLogger = ProofsLogger;
      epoch();
      // Fails only if another logger was installed first; then records go there, as before.
      let _ = log::set_logger(&LOGGER);
    });
  }
  log::set_max_level(max);
}

/// Forward records at `level` and above to stderr (`configure({ logLevel })`).
pub fn set_stderr_level(level: &str) -> napi::Result<()> {
  let filter = parse_level(level)?;
  let mut sinks = SINKS.lock().unwrap_or_else(|e| e.into_inner());
  sinks.stderr = filter;
  apply(&sinks);
  Ok(())
}

/// Start (or, with "off", stop) recording the library's log records at `level` and above. Records already
/// buffered stay until drained.
#[napi]
pub fn record_proof_logs(level: String) -> napi::Result<()> {
  let filter = parse_level(&level)?;
  let mut sinks = SINKS.lock().unwrap_or_else(|e| e.into_inner());
  sinks.record = filter;
  apply(&sinks);
  Ok(())
}

/// Takes every buffered record (oldest first) and empties the buffer.
#[napi]
pub fn drain_proof_logs() -> ProofLogDrain {
  let records = std::mem::take(&mut *RECORDS.lock().unwrap_or_else(|e| e.into_inner())).into();
  let dropped = DROPPED.swap(0, Ordering::Relaxed);
  ProofLogDrain { records, dropped: u32::try_from(dropped).unwrap_or(u32::MAX) }
}

/// The clock the records' `tMs` use, so a caller can place its own marks among them.
#[napi]
pub fn proof_log_clock_ms() -> f64 {
  elapsed_ms()
}

//! The one way work leaves the JS thread. Every exported proof function is `run(name, parse, work)`:
//! `parse` converts the JS arguments on the JS thread (typed arrays are only readable there), `work`
//! runs on napi's worker pool (`AsyncTask`) inside `catch_unwind`, so a panic deep in rust-fil-proofs
//! becomes a rejected promise ("Rust panic: …") instead of an abort. A `parse` error rejects the same
//! promise before any work is queued, so callers only ever handle one failure path.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

use napi::bindgen_prelude::{AsyncTask, ToNapiValue, TypeName};
use napi::{Env, Error, Status, Task};

/// Set by the first job that reaches the proofs library. After that, rust-fil-proofs has (or may have)
/// read its lazy `SETTINGS`, so changing `FIL_PROOFS_*` would silently not apply; `configure` refuses.
pub static PROOFS_USED: AtomicBool = AtomicBool::new(false);

type Work<T> = Box<dyn FnOnce() -> anyhow::Result<T> + Send + 'static>;

pub struct Job<T: Send + 'static> {
  name: &'static str,
  work: Option<Work<T>>,
  touches_library: bool,
}

impl<T> Task for Job<T>
where
  T: Send + 'static + ToNapiValue + TypeName,
{
  type Output = T;
  type JsValue = T;

  fn compute(&mut self) -> napi::Result<T> {
    let work =
      self.work.take().ok_or_else(|| Error::new(Status::GenericFailure, format!("{}: job already ran", self.name)))?;
    if self.touches_library {
      PROOFS_USED.store(true, Ordering::SeqCst);
    }
    guarded(self.name, work)
  }

  fn resolve(&mut self, _env: Env, output: T) -> napi::Result<T> {
    Ok(output)
  }
}

/// Runs `work` with panics caught and errors flattened into a JS-friendly message.
fn guarded<T>(name: &str, work: impl FnOnce() -> anyhow::Result<T>) -> napi::Result<T> {
  match catch_unwind(AssertUnwindSafe(work)) {
    Ok(Ok(value)) => Ok(value),
    // `{:#}` prints the whole anyhow context chain on one line: "outer: cause: root cause".
    Ok(Err(err)) => Err(Error::new(Status::GenericFailure, format!("{name}: {err:#}"))),
    Err(panic) => Err(Error::new(Status::GenericFailure, format!("Rust panic: {name}: {}", panic_message(&panic)))),
  }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
  if let Some(s) = panic.downcast_ref::<&str>() {
    (*s).to_string()
  } else if let Some(s) = panic.downcast_ref::<String>() {
    s.clone()
  } else {
    "unknown panic payload".to_string()
  }
}

/// The promise of an exported function `name`: `parse` now (JS thread), then `work` on the worker
/// pool with what `parse` returned. Errors of either reject with `"<name>: <anyhow chain>"`.
pub fn run<A, T, P, W>(name: &'static str, parse: P, work: W) -> AsyncTask<Job<T>>
where
  A: Send + 'static,
  T: Send + 'static + ToNapiValue + TypeName,
  P: FnOnce() -> anyhow::Result<A>,
  W: FnOnce(A) -> anyhow::Result<T> + Send + 'static,
{
  let job = match parse() {
    Ok(args) => Job { name, work: Some(Box::new(move || work(args))), touches_library: true },
    // Nothing reached the library: the settings stay open to `configure`.
    Err(err) => Job { name, work: Some(Box::new(move || Err(err))), touches_library: false },
  };
  AsyncTask::new(job)
}

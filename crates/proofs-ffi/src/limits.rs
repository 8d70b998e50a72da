//! Process limits the proofs need: a sealing or proving process opens many files at once (tree files, parent
//! caches, parameters), and the usual soft limit of 1024 open files ends in "Too many open files".

use napi::{Error, Status};
use napi_derive::napi;

/// The open-files limit (RLIMIT_NOFILE) after `raise_open_files_limit`.
#[napi(object)]
pub struct OpenFilesLimit {
  /// The soft limit now in force.
  pub soft: f64,
  /// The hard limit (the ceiling an unprivileged process may raise its soft limit to).
  pub hard: f64,
  /// The soft limit before the call.
  pub before: f64,
}

/// Linux refuses an unlimited soft limit for open files; fs.nr_open is the real ceiling.
fn nr_open() -> libc::rlim_t {
  std::fs::read_to_string("/proc/sys/fs/nr_open").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(1 << 20)
}

fn as_f64(v: libc::rlim_t) -> f64 {
  if v == libc::RLIM_INFINITY {
    f64::INFINITY
  } else {
    v as f64
  }
}

/// Raises the soft RLIMIT_NOFILE of this process to its hard limit (capped at fs.nr_open).
#[napi]
pub fn raise_open_files_limit() -> napi::Result<OpenFilesLimit> {
  let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
  // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
  if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
    return Err(Error::new(Status::GenericFailure, format!("getrlimit: {}", std::io::Error::last_os_error())));
  }
  let before = lim.rlim_cur;
  let target = if lim.rlim_max == libc::RLIM_INFINITY { nr_open() } else { lim.rlim_max };
  if target > lim.rlim_cur {
    let raised = libc::rlimit { rlim_cur: target, rlim_max: lim.rlim_max };
    // SAFETY: as above.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
      return Err(Error::new(Status::GenericFailure, format!("setrlimit: {}", std::io::Error::last_os_error())));
    }
    lim.rlim_cur = target;
  }
  Ok(OpenFilesLimit { soft: as_f64(lim.rlim_cur), hard: as_f64(lim.rlim_max), before: as_f64(before) })
}

//! NUMA memory placement for processor children (`numa_preferred`) without numactl, and the exec that makes
//! it hold for a whole program.
//!
//! set_mempolicy(2) and get_mempolicy(2) act on the calling thread only; a new thread starts with the policy
//! of the thread that creates it, and execve(2) keeps it. A Bun process already runs helper threads (its
//! work pool, where napi async work such as every proof call runs) before any script code, so setting the
//! policy in a running processor would leave the threads that do the work on the default policy. Instead a
//! small launcher sets it on its main thread and then execs the processor (`exec_program`), the way numactl
//! does: every thread of the new program inherits it.

use napi::{Error, Status};
use napi_derive::napi;

/// A thread's memory policy, as get_mempolicy(2) reports it.
#[napi(object)]
pub struct MemoryPolicy {
  /// default | preferred | bind | interleave | local | preferred-many | weighted-interleave (mode-N for
  /// a mode this build does not know).
  pub mode: String,
  /// The policy's nodes (the preferred node for `preferred`); empty for `default` and `local`.
  pub nodes: Vec<u32>,
}

/// Node masks cover MAX_NUMNODES for the largest NODES_SHIFT the kernel allows (10).
const MASK_BITS: usize = 1024;

fn failure(message: String) -> Error {
  Error::new(Status::GenericFailure, message)
}

#[cfg(target_os = "linux")]
mod sys {
  use std::io;

  use libc::{c_int, c_long, c_ulong};

  use super::{failure, MemoryPolicy, MASK_BITS};

  const WORD_BITS: usize = c_ulong::BITS as usize;
  const WORDS: usize = MASK_BITS / WORD_BITS;
  /// Flags get_mempolicy ORs into the mode (MPOL_MODE_FLAGS).
  const MODE_FLAGS: c_int = libc::MPOL_F_STATIC_NODES | libc::MPOL_F_RELATIVE_NODES | libc::MPOL_F_NUMA_BALANCING;
  // Not (yet) in the libc crate: <linux/mempolicy.h> since Linux 5.15 and 6.9.
  const MPOL_PREFERRED_MANY: c_int = 5;
  const MPOL_WEIGHTED_INTERLEAVE: c_int = 6;

  fn mode_name(mode: c_int) -> String {
    match mode {
      libc::MPOL_DEFAULT => "default".into(),
      libc::MPOL_PREFERRED => "preferred".into(),
      libc::MPOL_BIND => "bind".into(),
      libc::MPOL_INTERLEAVE => "interleave".into(),
      libc::MPOL_LOCAL => "local".into(),
      MPOL_PREFERRED_MANY => "preferred-many".into(),
      MPOL_WEIGHTED_INTERLEAVE => "weighted-interleave".into(),
      other => format!("mode-{other}"),
    }
  }

  fn sysfs_line(path: &str) -> String {
    std::fs::read_to_string(path).map(|s| s.trim().to_string()).unwrap_or_else(|_| "unknown".into())
  }

  fn mems_allowed() -> String {
    std::fs::read_to_string("/proc/self/status")
      .ok()
      .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Mems_allowed_list:").map(|v| v.trim().to_string())))
      .unwrap_or_else(|| "unknown".into())
  }

  /// Why the kernel refused, with what the operator can change.
  fn explain(node: u32, err: io::Error) -> String {
    let head = format!("set_mempolicy(MPOL_PREFERRED, node {node}) failed: {err}");
    match err.raw_os_error() {
      Some(libc::EINVAL) => format!(
        "{head}: NUMA node {node} does not exist or is not allowed to this process \
         (nodes with memory: {}; allowed by the cpuset: {}). Fix: numa_preferred = one of those nodes \
         (damocles util hwinfo lists them)",
        sysfs_line("/sys/devices/system/node/has_memory"),
        mems_allowed()
      ),
      Some(libc::EPERM) => format!(
        "{head}: not permitted here (a container's default seccomp profile allows it only with \
         CAP_SYS_NICE). Fix: run with --cap-add SYS_NICE, or remove numa_preferred"
      ),
      Some(libc::ENOSYS) => format!("{head}: this kernel has no NUMA support. Fix: remove numa_preferred"),
      _ => head,
    }
  }

  pub fn prefer(node: u32) -> napi::Result<MemoryPolicy> {
    let bit = node as usize;
    if bit >= MASK_BITS {
      return Err(failure(format!(
        "NUMA node {node} is out of range: node ids go from 0 to {}. Fix: numa_preferred = a node \
         damocles util hwinfo lists",
        MASK_BITS - 1
      )));
    }
    let mut mask = [0 as c_ulong; WORDS];
    mask[bit / WORD_BITS] |= 1 << (bit % WORD_BITS);
    // maxnode is one more than the bits the kernel reads (a historic off-by-one; numactl passes size + 1).
    // SAFETY: the kernel reads MASK_BITS bits from `mask`, which holds exactly that many.
    let rc = unsafe {
      libc::syscall(libc::SYS_set_mempolicy, libc::MPOL_PREFERRED as c_long, mask.as_ptr(), (MASK_BITS + 1) as c_ulong)
    };
    if rc != 0 {
      return Err(failure(explain(node, io::Error::last_os_error())));
    }
    current()
  }

  pub fn current() -> napi::Result<MemoryPolicy> {
    let mut mode: c_int = 0;
    let mut mask = [0 as c_ulong; WORDS];
    // SAFETY: the kernel writes one int to `mode` and at most MASK_BITS bits to `mask`; no address is given.
    let rc = unsafe {
      libc::syscall(
        libc::SYS_get_mempolicy,
        &mut mode as *mut c_int,
        mask.as_mut_ptr(),
        (MASK_BITS + 1) as c_ulong,
        std::ptr::null_mut::<libc::c_void>(),
        0 as c_ulong,
      )
    };
    if rc != 0 {
      return Err(failure(format!("get_mempolicy failed: {}", io::Error::last_os_error())));
    }
    let nodes =
      (0..MASK_BITS).filter(|b| mask[b / WORD_BITS] & (1 << (b % WORD_BITS)) != 0).map(|b| b as u32).collect();
    Ok(MemoryPolicy { mode: mode_name(mode & !MODE_FLAGS), nodes })
  }
}

#[cfg(not(target_os = "linux"))]
mod sys {
  use super::{failure, MemoryPolicy};

  fn unsupported() -> napi::Error {
    failure(format!(
      "NUMA memory policies (numa_preferred) need Linux's set_mempolicy; this is {}. Fix: remove numa_preferred",
      std::env::consts::OS
    ))
  }

  pub fn prefer(_node: u32) -> napi::Result<MemoryPolicy> {
    Err(unsupported())
  }

  pub fn current() -> napi::Result<MemoryPolicy> {
    Err(unsupported())
  }
}

/// Sets the calling thread's memory policy to prefer `node` (MPOL_PREFERRED) and returns the policy read
/// back. Threads it creates afterwards, and a program it execs, inherit it.
#[napi]
pub fn prefer_numa_node(node: u32) -> napi::Result<MemoryPolicy> {
  sys::prefer(node)
}

/// The calling thread's memory policy (get_mempolicy).
#[napi]
pub fn memory_policy() -> napi::Result<MemoryPolicy> {
  sys::current()
}

/// Replaces this process with `argv[0]` (looked up in PATH) run with `argv[1..]`, keeping the pid, the
/// environment, the open stdio and the memory policy. Returns only when the exec failed.
#[napi]
pub fn exec_program(argv: Vec<String>) -> napi::Result<()> {
  let Some((program, args)) = argv.split_first() else {
    return Err(failure("exec_program: no program given".into()));
  };
  exec(program, args)
}

#[cfg(unix)]
fn exec(program: &str, args: &[String]) -> napi::Result<()> {
  use std::os::unix::process::CommandExt;
  // Bun may have put the stdio pipes in non-blocking mode; the flag belongs to the shared open file and
  // would survive the exec, making a program's plain blocking reads fail with EAGAIN.
  for fd in 0..3 {
    // SAFETY: fcntl on the standard descriptors only reads and clears a status flag.
    unsafe {
      let flags = libc::fcntl(fd, libc::F_GETFL);
      if flags >= 0 && flags & libc::O_NONBLOCK != 0 {
        libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
      }
    }
  }
  // std's exec also empties the signal mask and restores SIGPIPE's default action for the new program.
  let err = std::process::Command::new(program).args(args).exec();
  Err(failure(format!("cannot start {program}: {err}")))
}

#[cfg(not(unix))]
fn exec(program: &str, _args: &[String]) -> napi::Result<()> {
  Err(failure(format!("cannot start {program}: replacing a process needs a Unix system")))
}

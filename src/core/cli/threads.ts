import type { WorkerThreadInfo } from "../sector/api-worker.ts";
import { formatAge, renderTable } from "./table.ts";

function elapsed(t: WorkerThreadInfo["thread_state"]): string {
  return "elapsed" in t ? formatAge(t.elapsed) : "-";
}

/** The table both `worker list` and the manager's `util worker info` print. */
export function renderThreads(threads: readonly WorkerThreadInfo[]): string {
  return renderTable(
    ["#", "Location", "Plan", "SectorID", "Paused", "PausedElapsed", "State", "Stage", "ThreadState", "LastErr"],
    threads.map((t) => [
      t.index,
      t.location,
      t.plan,
      t.job_id ?? "-",
      t.thread_state.state === "Paused" ? "true" : "false",
      t.thread_state.state === "Paused" ? elapsed(t.thread_state) : "-",
      t.job_state,
      t.job_stage ?? "-",
      t.thread_state.state === "Running"
        ? `Running ${t.thread_state.proc ?? ""} ${elapsed(t.thread_state)}`.replace("  ", " ")
        : t.thread_state.state === "Waiting"
          ? `Waiting ${elapsed(t.thread_state)}`
          : t.thread_state.state,
      t.last_error ?? "-",
    ]),
  );
}

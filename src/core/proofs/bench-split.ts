import { readLoad } from "./machine-load.ts";
import { type ProofPhases, proofPhases, takeProofLogs } from "./phases.ts";

/**
 * One proof measured twice in one process (scripts/bench-proofs): the first run pays for loading the
 * parameters into the library's memory cache, the second finds them there. Each run records its wall time,
 * the 1-minute load at its start, and the library's own phase split (phases.ts): vanilla proofs vs SNARK.
 */

export interface ProofRun {
  /** Wall seconds of the run as the caller sees it: vanilla step + SNARK step (the check after is not timed). */
  wall_s: number;
  /** CPU seconds this process used meanwhile (all threads): the work done, less sensitive to others' load. */
  cpu_s: number;
  /** 1-minute load average when the run started. */
  load1: number;
  /** Seconds of the vanilla proofs (made inside the SNARK call, or by a separate call such as C1). */
  vanilla_s: number;
  /** Seconds of the SNARK (bellperson synthesis + proving). */
  snark_s: number;
  /** The SNARK call's phases from the library's logs; absent when its log records were not found. */
  phases?: ProofPhases;
  verified: boolean;
}

export interface ProofTiming {
  /** The library call that makes the SNARK ("generate_winning_post", "seal_commit_phase2", …). */
  call: string;
  first: ProofRun;
  second: ProofRun;
}

export interface ProofSteps {
  /** The library call of the separate vanilla step (C1, snap partition proofs), if any. */
  vanillaCall?: string;
  vanilla?: () => Promise<unknown>;
  /** The SNARK step, whose library call is `call`; receives what `vanilla` returned. */
  snark: (vanilla: unknown) => Promise<unknown>;
  /** Checks the SNARK step's result with the library's verifier (outside the timed phases). */
  verify: (proof: unknown) => Promise<boolean>;
}

const r3 = (s: number) => Math.round(s * 1000) / 1000;

function callSeconds(call: string, records: ReturnType<typeof takeProofLogs>): number {
  return proofPhases(records, call)?.call_s ?? 0;
}

async function runOnce(call: string, steps: ProofSteps): Promise<ProofRun> {
  takeProofLogs(); // what earlier stages logged
  const load1 = readLoad().load1;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let vanillaOut: unknown;
  let vanilla_s = 0;
  if (steps.vanilla) {
    vanillaOut = await steps.vanilla();
    vanilla_s = steps.vanillaCall ? callSeconds(steps.vanillaCall, takeProofLogs()) : 0;
  }
  const proof = await steps.snark(vanillaOut);
  const wall_s = r3((performance.now() - t0) / 1000);
  const cpu = process.cpuUsage(cpu0);
  const records = takeProofLogs();
  const verified = await steps.verify(proof);
  takeProofLogs(); // the verifier's records
  const phases = proofPhases(records, call);
  if (phases && phases.vanilla_s > 0) vanilla_s += phases.vanilla_s;
  return {
    wall_s,
    cpu_s: r3((cpu.user + cpu.system) / 1e6),
    load1,
    vanilla_s: r3(vanilla_s),
    snark_s: phases?.snark_s ?? 0,
    ...(phases ? { phases } : {}),
    verified,
  };
}

/** Runs `steps` twice in this process; logs must be recorded (phases.ts `recordProofLogs`). */
export async function measureProofTwice(call: string, steps: ProofSteps): Promise<ProofTiming> {
  const first = await runOnce(call, steps);
  const second = await runOnce(call, steps);
  return { call, first, second };
}

/** Table rows for the proofs: one per proof and run. */
export function formatProofTable(proofs: Record<string, ProofTiming>): string {
  const header = [
    "proof",
    "run",
    "wall",
    "cpu",
    "vanilla",
    "snark",
    "synth",
    "prover",
    "params",
    "vk",
    "check",
    "selfverify",
    "other",
    "load1",
    "ok",
  ];
  const rows: string[][] = [header];
  const f = (x: number | undefined) => (x === undefined ? "-" : x.toFixed(3));
  for (const [name, t] of Object.entries(proofs)) {
    for (const [run, r] of [
      ["first", t.first],
      ["second", t.second],
    ] as const) {
      const p = r.phases;
      rows.push([
        name,
        run,
        f(r.wall_s),
        f(r.cpu_s),
        f(r.vanilla_s),
        f(r.snark_s),
        f(p?.synthesis_s),
        f(p?.prover_s),
        f(p?.params_s),
        f(p?.vk_s),
        f(p?.vanilla_check_s),
        f(p?.self_verify_s),
        f(p?.other_s),
        r.load1.toFixed(2),
        r.verified ? "yes" : "NO",
      ]);
    }
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "))
    .join("\n");
}

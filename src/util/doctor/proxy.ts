import type { ProcessorConfig } from "../../core/config/index.ts";

/**
 * A processor whose `bin` hands the work to another machine (a GPU proxy, an outsourcing client):
 * it uses no local GPU, so locks and CUDA_VISIBLE_DEVICES on it mean nothing here (seed 000's c2
 * `bin = "/usr/local/bin/gpuproxy"`, seed 003's "damocles-worker-c2-outsource" with --url).
 */
export function isRemoteProxy(proc: ProcessorConfig): boolean {
  if (proc.bin && /proxy|outsource|remote/i.test(proc.bin.split("/").at(-1) ?? "")) return true;
  return (proc.args ?? []).some(
    (a) =>
      /^--?(url|addr|endpoint|server)\b/i.test(a) || /^\/(ip4|ip6|dns4?|dns6)\//.test(a) || /^[a-z]+:\/\//i.test(a),
  );
}

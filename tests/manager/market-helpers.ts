import { createHash } from "node:crypto";
import { pieceCid, sealProofInfo, zeroCommD } from "../../src/core/sector/index.ts";
import type { CommDCalculator, DataPiece } from "../../src/devnet/index.ts";

/**
 * compute_comm_d in TypeScript, for tests that do not load the proofs addon: the same stack the library
 * uses (each piece aligned to its own size by zero pieces, the rest of the sector zero), over
 * sha256-trunc254. tests/manager/market-real.test.ts checks it against the library.
 */
function join(left: Uint8Array, right: Uint8Array): Uint8Array {
  const out = new Uint8Array(createHash("sha256").update(left).update(right).digest());
  out[31]! &= 0x3f;
  return out;
}

export function jsCommD(sectorSize: number, pieces: readonly DataPiece[]): Uint8Array {
  const stack: { size: number; comm: Uint8Array }[] = [];
  const reduce = () => {
    while (stack.length > 1 && stack.at(-1)!.size === stack.at(-2)!.size) {
      const right = stack.pop()!;
      const left = stack.pop()!;
      stack.push({ size: left.size * 2, comm: join(left.comm, right.comm) });
    }
  };
  const shiftReduce = (size: number, comm: Uint8Array) => {
    stack.push({ size, comm });
    reduce();
  };
  for (const p of pieces) {
    while (stack.length > 0 && stack.at(-1)!.size < p.paddedSize) {
      const size = stack.at(-1)!.size;
      shiftReduce(size, zeroCommD(size));
    }
    shiftReduce(p.paddedSize, p.commP);
  }
  while (stack.length > 1) {
    const size = stack.at(-1)!.size;
    shiftReduce(size, zeroCommD(size));
  }
  let top = stack[0] ?? { size: sectorSize, comm: zeroCommD(sectorSize) };
  while (top.size < sectorSize) top = { size: top.size * 2, comm: join(top.comm, zeroCommD(top.size)) };
  if (top.size !== sectorSize) throw new Error(`pieces of ${top.size} bytes do not fit a ${sectorSize}-byte sector`);
  return top.comm;
}

/** The TypeScript calculator as a CommDCalculator; counts its calls. */
export function jsCommDCalculator(): CommDCalculator & { calls: number } {
  const calc = {
    name: "test compute_comm_d (TypeScript)",
    calls: 0,
    async computeCommD(sealProof: number, pieces: readonly DataPiece[]) {
      calc.calls++;
      return jsCommD(sealProofInfo(sealProof).sectorSize, pieces);
    },
  };
  return calc;
}

/** A made-up piece commitment (a valid field element), distinct per label. */
export function fakeCommP(label: string): Uint8Array {
  const out = new Uint8Array(createHash("sha256").update(`piece ${label}`).digest());
  out[31]! &= 0x3f;
  return out;
}

export function fakePieceCid(label: string): string {
  return pieceCid(fakeCommP(label));
}

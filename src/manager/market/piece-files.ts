import { randomUUID } from "node:crypto";
import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * The piece stores (`[[Common.PieceStores]]`): directories holding piece files named after their piece
 * CID, `<cid>` or `<cid>.car` (the names the original's /piecestore/ tries). Files arrive whole: copied
 * under a temporary name, synced, then renamed, so a reader never sees half a piece.
 */

export interface PieceStoreDir {
  name: string;
  path: string;
  readOnly: boolean;
}

export interface PieceFile {
  store: string;
  path: string;
  size: number;
}

const CAR_SUFFIX = ".car";

/** Store entries as the config has them (Name defaults to Path, as for persist stores). */
export function pieceStoreDirs(entries: { Name?: string; Path: string; ReadOnly: boolean }[]): PieceStoreDir[] {
  return entries.map((e) => ({ name: e.Name ?? e.Path, path: e.Path, readOnly: e.ReadOnly }));
}

/** Splits a requested name into the piece CID and whether it asked for the .car form. */
export function parsePieceName(name: string): { cid: string; car: boolean } {
  return name.endsWith(CAR_SUFFIX) ? { cid: name.slice(0, -CAR_SUFFIX.length), car: true } : { cid: name, car: false };
}

function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class PieceFiles {
  constructor(readonly stores: readonly PieceStoreDir[]) {}

  /** The first store file holding the piece: `<cid>`, else `<cid>.car`, in config order. */
  find(cid: string): PieceFile | undefined {
    if (cid === "" || cid.includes("/") || cid.includes("\\") || cid.startsWith(".")) return undefined;
    for (const store of this.stores) {
      for (const name of [cid, cid + CAR_SUFFIX]) {
        const path = join(store.path, name);
        try {
          const st = statSync(path);
          if (st.isFile()) return { store: store.name, path, size: st.size };
        } catch {
          // not in this store
        }
      }
    }
    return undefined;
  }

  /** The first store new pieces may be written to. */
  writable(): PieceStoreDir | undefined {
    return this.stores.find((s) => !s.readOnly && existsSync(s.path));
  }

  /** Copies `source` into the store under a temporary name, on disk when this returns. */
  stage(store: PieceStoreDir, source: string): string {
    const tmp = join(store.path, `.import-${randomUUID()}`);
    try {
      copyFileSync(source, tmp);
      fsyncPath(tmp);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
    return tmp;
  }

  /** Names a staged file after its piece CID (atomically replacing an identical piece) and syncs the directory. */
  commit(store: PieceStoreDir, staged: string, cid: string): string {
    const path = join(store.path, cid);
    renameSync(staged, path);
    fsyncPath(store.path);
    return path;
  }

  discard(staged: string): void {
    rmSync(staged, { force: true });
  }
}

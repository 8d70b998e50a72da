import { cp, lstat, mkdir, rename, rm, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import * as v from "valibot";
import { definePlugin } from "../core/plugin/api.ts";
import { TransferInputSchema } from "../core/processor/stages/seal.ts";

/**
 * transfer, as vc-processors' builtin Transfer: each route copies (or, with `opt.allow_link` and no
 * DISABLE_LINK, symlinks) the absolute path `src.uri` to the absolute path `dest.uri`. `stores` and
 * `store_name` are not read. A destination of the other kind (file vs directory) is an error; one of the
 * same kind is replaced.
 */
export default definePlugin({
  name: "builtin-transfer",
  stage: "transfer",
  description: "copy (or link) sealed and cache files between stores",
  input: TransferInputSchema,
  output: v.literal(true),
  async run(task, { log }) {
    const disableLink = process.env.DISABLE_LINK === "1" || process.env.DISABLE_LINK === "true";
    for (const route of task.routes) {
      const src = route.src.uri;
      const dest = route.dest.uri;
      const stat = await lstat(src).catch(() => undefined);
      if (!stat) throw new Error(`src path does not exist: ${src}`);
      const existing = await lstat(dest).catch(() => undefined);
      if (existing && existing.isDirectory() !== stat.isDirectory())
        throw new Error(`dest ${dest} is a ${existing.isDirectory() ? "directory" : "file"}, src ${src} is not`);
      await mkdir(dirname(dest), { recursive: true });
      await rm(dest, { recursive: true, force: true });
      if (route.opt?.allow_link && !disableLink) {
        await symlink(src, dest);
        log.debug(`linked ${src} -> ${dest}`);
        continue;
      }
      // Copy under a temporary name first so a crash never leaves a half-written file at the final path.
      const tmp = join(dirname(dest), `.${Date.now()}-${process.pid}.transfer`);
      await cp(src, tmp, { recursive: stat.isDirectory(), errorOnExist: false, force: true });
      await rename(tmp, dest);
      log.debug(`copied ${src} -> ${dest}`);
    }
    return true as const;
  },
});

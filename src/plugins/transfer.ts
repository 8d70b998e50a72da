import { cp, lstat, mkdir, rename, rm, symlink } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import * as v from "valibot";
import { definePlugin } from "../core/plugin/api.ts";

/**
 * transfer: move sector files between a sealing store and persist stores. Wire shape of vc-processors:
 * `{stores:{name:{name, meta?}}, routes:[{src:{store_name?, uri}, dest:{store_name?, uri}, opt?:{is_dir, allow_link}}]}`
 * → true. A `uri` is relative to its store's location when `store_name` is set, else an absolute path.
 * Our stores also carry `location` in their meta (key `location`) so a processor needs no other lookup.
 */
const Endpoint = v.object({
  store_name: v.nullish(v.string()),
  uri: v.pipe(v.string(), v.minLength(1, "uri must not be empty")),
});
const TransferInput = v.object({
  stores: v.optional(
    v.record(v.string(), v.object({ name: v.string(), meta: v.nullish(v.record(v.string(), v.string())) })),
    {},
  ),
  routes: v.array(
    v.object({
      src: Endpoint,
      dest: Endpoint,
      opt: v.nullish(v.object({ is_dir: v.optional(v.boolean(), false), allow_link: v.optional(v.boolean(), false) })),
    }),
  ),
});
type TransferTask = v.InferOutput<typeof TransferInput>;

function resolveEndpoint(task: TransferTask, ep: v.InferOutput<typeof Endpoint>): string {
  if (!ep.store_name) {
    if (!isAbsolute(ep.uri)) throw new Error(`uri "${ep.uri}" must be absolute when no store_name is given`);
    return ep.uri;
  }
  const store = task.stores[ep.store_name];
  const location = store?.meta?.location;
  if (!location) throw new Error(`store "${ep.store_name}" is not described in stores (its meta needs a "location")`);
  const full = resolve(location, ep.uri);
  if (!full.startsWith(resolve(location))) throw new Error(`uri "${ep.uri}" escapes store "${ep.store_name}"`);
  return full;
}

export default definePlugin({
  name: "builtin-transfer",
  stage: "transfer",
  description: "copy (or link) sealed and cache files between stores",
  input: TransferInput,
  async run(task, { log }) {
    const disableLink = process.env.DISABLE_LINK === "1" || process.env.DISABLE_LINK === "true";
    for (const route of task.routes) {
      const src = resolveEndpoint(task, route.src);
      const dest = resolveEndpoint(task, route.dest);
      const stat = await lstat(src).catch(() => undefined);
      if (!stat) throw new Error(`source ${src} does not exist`);
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
    return true;
  },
});

import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { childLogger } from "../log/index.ts";
import { type AnyStagePlugin, asStagePlugin } from "./api.ts";

const log = childLogger("plugins");
const PLUGIN_FILE = /^[^.].*\.(ts|js|mjs)$/;

/** Stage name → plugin. Built-ins first; a plugin file for the same stage replaces the built-in. */
export type PluginRegistry = ReadonlyMap<string, AnyStagePlugin & { source: string }>;

/**
 * Load the built-in plugins plus every plugin file directly inside `dir` (when it exists). A plugin file
 * that fails to load stops the load with its path and reason: an operator who dropped a plugin in
 * expects it to be used, not silently skipped.
 */
export async function loadPlugins(builtins: readonly AnyStagePlugin[], dir?: string): Promise<PluginRegistry> {
  const registry = new Map<string, AnyStagePlugin & { source: string }>();
  for (const p of builtins) registry.set(p.stage, { ...p, source: "built-in" });
  if (!dir) return registry;
  const root = resolve(dir);
  if (!existsSync(root)) return registry;
  if (!statSync(root).isDirectory()) throw new Error(`plugins directory ${root} is not a directory`);
  const files = readdirSync(root)
    .filter((f) => PLUGIN_FILE.test(f) && !/\.(test|spec|d)\.[a-z]+$/.test(f))
    .sort();
  for (const file of files) {
    const path = join(root, file);
    let mod: { default?: unknown };
    try {
      mod = await import(path);
    } catch (err) {
      throw new Error(`plugin ${path} failed to load: ${(err as Error).message}`);
    }
    const plugin = asStagePlugin(mod.default, path);
    const replaced = registry.get(plugin.stage);
    registry.set(plugin.stage, { ...plugin, source: path });
    log.info(
      `${plugin.name} from ${path} ${replaced ? `replaces the ${replaced.source} ${plugin.stage} stage` : `adds stage ${plugin.stage}`}`,
    );
  }
  return registry;
}

import { describe, expect, test } from "bun:test";
import { canonicalArgs, isOption, resolveCommand } from "./argv.ts";
import { CliError, command } from "./command.ts";

const init = command({ meta: { name: "init" }, args: { home: { type: "string" }, force: { type: "boolean" } } });
const dump = command({
  meta: { name: "enable-dump", alias: "enable_dump" },
  args: {
    config: { type: "string", alias: "c" },
    child_pid: { type: "string", required: true },
    "dump-dir": { type: "string" },
  },
});
const root = command({
  meta: { name: "damocles" },
  subCommands: {
    manager: command({
      meta: { name: "manager" },
      subCommands: { init, daemon: command({ meta: { name: "daemon" }, subCommands: { init } }) },
    }),
    worker: () => command({ meta: { name: "worker" }, subCommands: { "enable-dump": dump } }),
  },
});

async function argv(...raw: string[]): Promise<string[]> {
  return canonicalArgs(await resolveCommand(root, raw));
}

describe("the command line before citty reads it", () => {
  test("options before the subcommand travel to it, with or without =", async () => {
    expect(await argv("manager", "--home=/x", "init")).toEqual(["manager", "init", "--home=/x"]);
    expect(await argv("manager", "--home", "/x", "daemon", "init", "--force")).toEqual([
      "manager",
      "daemon",
      "init",
      "--home",
      "/x",
      "--force",
    ]);
  });

  test("subcommands and options in either spelling come out as declared", async () => {
    expect(await argv("worker", "-c", "w.toml", "enable_dump", "--child-pid=7", "--dump_dir", "/d")).toEqual([
      "worker",
      "enable-dump",
      "--config",
      "w.toml",
      "--child_pid=7",
      "--dump-dir",
      "/d",
    ]);
  });

  test("a boolean's --no- form is known; values that look like numbers are values", async () => {
    expect(await argv("manager", "init", "--no_force", "--home", "-1")).toEqual([
      "manager",
      "init",
      "--no-force",
      "--home",
      "-1",
    ]);
    expect(isOption("-")).toBe(false);
    expect(isOption("-5")).toBe(false);
    expect(isOption("-c")).toBe(true);
  });

  test("an unknown option, before or after the subcommand, is an error naming it", async () => {
    const err = await argv("manager", "--hme", "/x", "init").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    expect((err as CliError).message).toBe(
      "unknown option --hme for 'damocles manager init' (see 'damocles manager init --help')",
    );
    await expect(argv("worker", "enable-dump", "--child_pid=1", "--dump")).rejects.toThrow("unknown option --dump");
  });

  test("after -- everything is passed on", async () => {
    expect(await argv("manager", "init", "--", "--anything")).toEqual(["manager", "init", "--", "--anything"]);
  });

  test("the resolved leaf and parent serve the help", async () => {
    const r = await resolveCommand(root, ["manager", "--home", "/x", "daemon", "init", "--help"]);
    expect(r.leaf).toBe(init);
    expect(r.path).toEqual(["manager", "daemon", "init"]);
  });
});

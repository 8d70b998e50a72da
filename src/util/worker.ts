import { CliError, command } from "../core/cli/command.ts";
import { formatAge, renderTable } from "../core/cli/table.ts";
import { parseDuration } from "../core/config/index.ts";
import { Venus } from "../core/sector/api.ts";
import { managerApiArgs, withManager } from "./sealer/client.ts";

const list = command({
  meta: { name: "list", description: "Workers known to the manager from their pings" },
  args: {
    ...managerApiArgs,
    expiration: { type: "string", description: "mark pings older than this with (!)", default: "10m" },
  },
  examples: ["damocles util worker list", "damocles util worker list --expiration 2m"],
  async run({ args }) {
    const expirationMs = parseDuration(args.expiration);
    if (expirationMs === undefined)
      throw new CliError(`--expiration: expected a duration like "10m", got "${args.expiration}"`, 2);
    const pings = (await withManager(args, (c) => c.call(Venus.WorkerPingInfoList))) ?? [];
    if (pings.length === 0) {
      process.stdout.write("no worker has pinged this manager yet\n");
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const rows = [...pings]
      .sort((a, b) => a.Info.Name.localeCompare(b.Info.Name))
      .map((p) => {
        const age = Math.max(0, now - p.LastPing);
        const s = p.Info.Summary;
        return [
          p.Info.Name,
          p.Info.Dest,
          p.Info.Version,
          s.Threads,
          s.Empty,
          s.Paused,
          s.Running,
          s.Waiting,
          s.Errors,
          `${formatAge(age)}${age * 1000 > expirationMs ? "(!)" : ""}`,
        ];
      });
    process.stdout.write(
      renderTable(
        [
          "Name",
          "Dest",
          "Version",
          "Threads",
          "Empty",
          "Paused",
          "Running",
          "Waiting",
          "Errors",
          "LastPing(with ! if expired)",
        ],
        rows,
      ),
    );
  },
});

export const workerCommand = command({
  meta: { name: "worker", description: "Workers as the manager sees them; info/pause/resume call a worker directly" },
  subCommands: {
    list,
    info: () => import("./worker-remote.ts").then((m) => m.info),
    pause: () => import("./worker-remote.ts").then((m) => m.pause),
    resume: () => import("./worker-remote.ts").then((m) => m.resume),
    wdpost: () => import("./worker-wdpost.ts").then((m) => m.wdpostCommand),
  },
  examples: ["damocles util worker list", "damocles util worker info 127.0.0.1"],
});

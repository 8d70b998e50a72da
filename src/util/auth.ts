import * as v from "valibot";
import { Auth, createToken, PERMS, type Perm, PermSchema, readAuthSecret } from "../core/auth/index.ts";
import { CliError, command } from "../core/cli/command.ts";
import { resolveManagerHome } from "../core/config/manager-home.ts";
import { managerApiArgs, withManager } from "./sealer/client.ts";

/**
 * `util auth create-token`: a token of the manager for a worker, a PoSter node or a person. On the
 * manager's host it is signed with the home's secret (works while the manager is down); elsewhere the
 * manager makes it (Venus.AuthNew, which needs an admin token).
 */

export async function mintToken(
  args: { api?: string; home?: string; token?: string },
  name: string,
  perm: Perm,
): Promise<string> {
  let secret: Uint8Array | undefined;
  try {
    secret = args.api ? undefined : readAuthSecret(resolveManagerHome(args.home));
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== "EACCES") throw new CliError((err as Error).message);
  }
  try {
    if (secret) return await createToken(secret, { name, perm });
    return await withManager(args, (c) => c.call(Auth.AuthNew, name, perm));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError((err as Error).message, 2);
  }
}

function parsePerm(text: string): Perm {
  const parsed = v.safeParse(PermSchema, text);
  if (!parsed.success) throw new CliError(`--perm: expected one of ${PERMS.join(", ")}, got "${text}"`, 2);
  return parsed.output;
}

const createTokenCommand = command({
  meta: {
    name: "create-token",
    description: "Print a new API token of the manager (read < write < sign < admin; each includes the ones before)",
  },
  args: {
    ...managerApiArgs,
    perm: {
      type: "string",
      description: "permission: read (queries), write (a sealing worker), sign (a PoSter node), admin (operators)",
      required: true,
    },
    name: { type: "string", description: "who the token is for, as the manager logs it", default: "cli" },
  },
  examples: [
    "damocles util auth create-token --perm write --name worker-1",
    "damocles util auth create-token --perm sign --name poster",
    "damocles util auth create-token --perm read --api 10.0.0.5:1789 --token $ADMIN_TOKEN",
  ],
  async run({ args }) {
    const token = await mintToken(args, args.name, parsePerm(args.perm));
    process.stdout.write(`${token}\n`);
  },
});

export const authCommand = command({
  meta: { name: "auth", description: "API tokens of the manager" },
  subCommands: { "create-token": createTokenCommand },
  examples: ["damocles util auth create-token --perm write --name worker-1"],
});

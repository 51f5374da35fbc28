/**
 * `bts-site` command line: arguments → config → the site → signals. Nothing else.
 * Exit codes (contract, section 1): 0 done, 1 runtime failure, 2 usage or config error.
 */
import { parseArgs } from "node:util";
import { createLogger } from "./app/logging.js";
import { onSignals } from "./app/signals.js";
import { Site } from "./app/site.js";
import { SystemdNotifier } from "./app/systemd.js";
import { checkConfigCommand } from "./config/checkConfig.js";
import { DEFAULT_CONFIG_PATH, loadConfig } from "./config/load.js";
import { errorText, isSiteError } from "./core/errors.js";

const USAGE = `usage: bts-site <command> [options]

  run [--config FILE]          the controller (default config ${DEFAULT_CONFIG_PATH})
  demo [--for SECONDS]         a whole site on this machine: simulated modems, no hardware
  check-config FILE            validate a config; prints path.to.key: problem
  modem-sim --link PATH [...]  the GSM modem simulator on a pseudo-terminal
  hash-password                a web.password_hash for the password on standard input
  remote --broker URL --site ID COMMAND [JSON]
                               the NOC side: one MQTT request to a site, its response printed
  version                      print the version
`;

async function runCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: "string" } }, strict: true });
  let loaded: Awaited<ReturnType<typeof loadConfig>>;
  try {
    loaded = await loadConfig(values.config ? { mainFile: values.config } : {});
  } catch (err) {
    const problems =
      isSiteError(err) && Array.isArray(err.detail.problems)
        ? (err.detail.problems as string[])
        : [errorText(err)];
    for (const p of problems) process.stderr.write(`${p}\n`);
    return 2;
  }
  const logger = createLogger(loaded.config.log);
  const site = new Site({ config: loaded.config, logger, loaded });
  const systemd = new SystemdNotifier({ logger: logger.child("systemd") });
  try {
    await site.start();
  } catch (err) {
    logger.error(`cannot start: ${errorText(err)}`);
    await site.stop().catch(() => {});
    return 1;
  }
  await systemd.ready(`site ${loaded.config.site.id} running`);
  return onSignals(async () => {
    await systemd.stopping();
    await site.stop();
  });
}

async function version(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const { packageRoot } = await import("./core/paths.js");
  const pkg = JSON.parse(await readFile(`${packageRoot()}/package.json`, "utf8")) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "run":
        return await runCommand(rest);
      case "demo": {
        const { demoCommand } = await import("./app/demo.js");
        return await demoCommand(rest);
      }
      case "check-config": {
        if (rest.length !== 1 || rest[0]!.startsWith("-")) {
          process.stderr.write("usage: bts-site check-config FILE\n");
          return 2;
        }
        return await checkConfigCommand(rest[0]!, (line) => process.stdout.write(`${line}\n`));
      }
      case "hash-password": {
        // The password on standard input (not in argv: shell history, ps), the hash on standard output.
        const { hashPassword } = await import("./web/auth.js");
        const chunks: Buffer[] = [];
        for await (const c of process.stdin) chunks.push(c as Buffer);
        const password = Buffer.concat(chunks)
          .toString("utf8")
          .replace(/\r?\n$/, "");
        if (password.length < 8) {
          process.stderr.write(
            "bts-site hash-password: give a password of at least 8 characters on standard input\n",
          );
          return 2;
        }
        process.stdout.write(`${await hashPassword(password)}\n`);
        return 0;
      }
      case "system-facts": {
        // Internal: the static system facts as one JSON line (src/system/factsProcess.ts).
        const { values } = parseArgs({ args: rest, options: { root: { type: "string" } }, strict: true });
        const { readStaticFacts } = await import("./system/staticFacts.js");
        const facts = await readStaticFacts(undefined, values.root ? { root: values.root } : {});
        process.stdout.write(`${JSON.stringify(facts)}\n`);
        return 0;
      }
      case "remote": {
        const { remoteCommand } = await import("./mqtt/remote.js");
        return await remoteCommand(rest);
      }
      case "modem-sim": {
        const { modemSimCommand } = await import("./sim/cli.js");
        return await modemSimCommand(rest);
      }
      case "version":
      case "--version":
        process.stdout.write(`${await version()}\n`);
        return 0;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`bts-site: unknown command ${JSON.stringify(command)}\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (isSiteError(err, "usage") || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`bts-site ${command}: ${errorText(err)}\n`);
      return 2;
    }
    process.stderr.write(`bts-site ${command}: ${errorText(err)}\n`);
    return 1;
  }
}

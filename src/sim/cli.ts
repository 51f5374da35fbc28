/**
 * `bts-site modem-sim`: runs one simulated modem on a pty until SIGTERM/SIGINT.
 *
 *   bts-site modem-sim --link PATH [--profile NAME] [--imei N] [--imsi N] [--iccid N] [--pin 1234]
 *                      [--power-gpio N] [--gpio-dir DIR] [--control PATH] [--time-scale X]
 *
 * Once up it prints one JSON line on stdout: {"link":..., "links":[...], "control":...}; logs go to
 * stderr. Exit 0 after a clean stop, 1 on a runtime failure, 2 on a usage error.
 */

import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { errorText, isSiteError } from "../core/errors.js";
import { LEVELS, type Level, Logger, LogLevels } from "../core/logger.js";
import { SimControlServer } from "./control.js";
import { profileNames } from "./profile.js";
import { ModemSimulator } from "./simulator.js";

const USAGE = `usage: bts-site modem-sim --link PATH [--profile NAME] [--imei N] [--imsi N] [--iccid N]
       [--pin 1234] [--power-gpio N] [--gpio-dir DIR (default /run/bts-gpio)]
       [--control PATH (default PATH.ctl)] [--time-scale X (default 1)] [--log-level info]`;

const OPTIONS = {
  link: { type: "string" },
  profile: { type: "string", default: "generic" },
  imei: { type: "string" },
  imsi: { type: "string" },
  iccid: { type: "string" },
  pin: { type: "string" },
  "power-gpio": { type: "string" },
  "gpio-dir": { type: "string", default: "/run/bts-gpio" },
  control: { type: "string" },
  "time-scale": { type: "string", default: "1" },
  "log-level": { type: "string", default: "info" },
  help: { type: "boolean", short: "h" },
} as const;

function usageError(message: string): number {
  process.stderr.write(`modem-sim: ${message}\n${USAGE}\n`);
  return 2;
}

/** Runs the `modem-sim` command with `argv` (after the command name); resolves with the exit code. */
export async function modemSimCommand(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>["values"];
  try {
    values = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    return usageError(errorText(err));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\nprofiles: ${(await profileNames()).join(", ")}\n`);
    return 0;
  }
  const link = values.link;
  if (!link) return usageError("--link is required");
  const timeScale = Number(values["time-scale"]);
  if (!(timeScale > 0)) return usageError("--time-scale must be a number > 0");
  let line: number | undefined;
  if (values["power-gpio"] !== undefined) {
    line = Number(values["power-gpio"]);
    if (!Number.isInteger(line) || line < 0) return usageError("--power-gpio must be a GPIO line number");
  }
  if (values.imei !== undefined && !/^\d{15}$/.test(values.imei))
    return usageError("--imei must be 15 digits");
  if (values.pin !== undefined && !/^\d{4,8}$/.test(values.pin))
    return usageError("--pin must be 4-8 digits");
  const level = values["log-level"] as Level;
  if (!LEVELS.includes(level)) return usageError(`--log-level must be one of ${LEVELS.join(", ")}`);

  const logger = new Logger("modem-sim", new LogLevels(level), (r) =>
    process.stderr.write(`${JSON.stringify(r)}\n`),
  );
  const controlPath = values.control ?? `${link}.ctl`;
  const sim = new ModemSimulator({
    link,
    profile: values.profile,
    imei: values.imei,
    imsi: values.imsi,
    iccid: values.iccid,
    pin: values.pin,
    powerGpio: line === undefined ? undefined : { dir: values["gpio-dir"], line },
    timeScale,
    logger,
  });
  const control = new SimControlServer(sim, controlPath);

  let stopSignal: (sig: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => (stopSignal = resolve));
  const onSignal = (sig: NodeJS.Signals) => stopSignal(sig);
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  try {
    await mkdir(dirname(link), { recursive: true });
    await sim.start();
    await control.start();
    process.stdout.write(`${JSON.stringify({ link, links: sim.linkPaths(), control: controlPath })}\n`);
    const sig = await stopped;
    logger.info(`stopping on ${sig}`);
    return 0;
  } catch (err) {
    if (isSiteError(err, "config.invalid")) return usageError(errorText(err));
    process.stderr.write(`modem-sim: ${errorText(err)}\n`);
    return 1;
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    await control.stop();
    await sim.stop();
  }
}

/**
 * Facts about the board that do not change while the site runs: model, serial, OS, CPU, memory.
 * Read ONCE at start with the `systeminformation` package, which is thorough but costly: on
 * Linux `si.system()` alone runs `dmidecode`, a shell reading /sys/devices/virtual/dmi and
 * `dmesg | grep` (node_modules/systeminformation/lib/system.js), so it is never used for the
 * periodic figures (see sampler.ts). The site calls this in a short-lived child process
 * (`bts-site system-facts`, factsProcess.ts), so the package's memory goes away with the child.
 *
 * On a Raspberry Pi the device tree names the board better than systeminformation does: si takes
 * model and serial from the `Hardware`/`Revision`/`Serial` lines of /proc/cpuinfo, which only
 * Raspberry Pi's own kernels print; on Debian's kernel (no DMI table, no such lines) model and
 * serial come back empty. `/proc/device-tree/model` (e.g. `Raspberry Pi 4 Model B Rev 1.4`, from the
 * board's device tree) and `/proc/device-tree/serial-number` (added by the Pi firmware since
 * 2016, raspberrypi/linux#1670) are there whichever kernel boots; both end with a NUL.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** The subset of the `systeminformation` module used here; tests pass a fake. */
export interface SystemInformationLike {
  system(): Promise<{ manufacturer?: string; model?: string; serial?: string }>;
  osInfo(): Promise<{ distro?: string; release?: string; kernel?: string; arch?: string }>;
  cpu(): Promise<{ brand?: string; cores?: number }>;
  mem(): Promise<{ total?: number }>;
}

/** JSON-ready (snake_case). Every field is `null` when unknown. */
export interface StaticFacts {
  /** Board model, e.g. `"Raspberry Pi 4 Model B Rev 1.4"`. */
  model: string | null;
  manufacturer: string | null;
  /** Board serial number (on a Pi: the SoC serial, 16 hex digits). */
  serial: string | null;
  os: {
    /** e.g. `"Debian GNU/Linux"`. */
    distro: string | null;
    /** e.g. `"12"`. */
    release: string | null;
    /** e.g. `"6.1.0-31-arm64"`. */
    kernel: string | null;
    /** Node's arch names: `"arm64"`, `"arm"`, `"x64"`. */
    arch: string | null;
  };
  cpu: {
    /** e.g. `"Cortex-A72"` on a Pi 4, `"Core™ i5-8250U"` on a PC. */
    brand: string | null;
    /** Logical cores. */
    cores: number | null;
  };
  memory_total_bytes: number | null;
}

export interface StaticFactsOptions {
  /** Where `/proc/device-tree` is read from. Default `"/"`; tests pass a fake tree. */
  root?: string;
}

/** What systeminformation and firmware tables say when they do not know. Compared lowercased. */
const PLACEHOLDERS = new Set([
  "",
  "-",
  "computer",
  "unknown",
  "none",
  "n/a",
  "default string",
  "not specified",
  "not applicable",
  "to be filled by o.e.m.",
  "system manufacturer",
  "system product name",
  "system serial number",
  "0",
]);

/** Manufacturer reported for every board whose device-tree model starts with "Raspberry Pi". */
export const RASPBERRY_PI_MANUFACTURER = "Raspberry Pi Ltd";

function text(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const s = value.trim();
  return PLACEHOLDERS.has(s.toLowerCase()) ? null : s;
}

/** A serial number, or `null` for placeholders and all-zero serials (`"0000000000000000"`). */
function serial(value: unknown): string | null {
  const s = text(value);
  return s === null || /^0+$/.test(s) ? null : s;
}

function count(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : null;
}

/** Calls one systeminformation function; any failure (throw, rejection, missing) gives `null`. */
async function attempt<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch {
    return null;
  }
}

/** A device-tree string property: the kernel writes it with its terminating NUL. */
async function deviceTreeString(root: string, name: string): Promise<string | null> {
  try {
    return text((await readFile(join(root, "proc/device-tree", name), "utf8")).replace(/\0/g, ""));
  } catch {
    return null;
  }
}

/** What `import("systeminformation")` resolves to: the module's functions, a `default`, or both. */
export type SystemInformationNamespace = Partial<SystemInformationLike> & { default?: SystemInformationLike };

function isSystemInformation(m: Partial<SystemInformationLike>): m is SystemInformationLike {
  return (
    typeof m.system === "function" &&
    typeof m.osInfo === "function" &&
    typeof m.cpu === "function" &&
    typeof m.mem === "function"
  );
}

/**
 * The `systeminformation` module, whichever way it was loaded, or `null` when it lacks a
 * function used here. It is CommonJS: Node's own ESM loader gives a namespace with the named
 * exports and `default`, but the esbuild bundle (scripts/bundle.js, ESM output) gives a
 * namespace whose only key is `default`, where `m.system` is `undefined`.
 */
export function systemInformationOf(m: SystemInformationNamespace): SystemInformationLike | null {
  const lib = m.default ?? m;
  return isSystemInformation(lib) ? lib : null;
}

async function loadSystemInformation(): Promise<SystemInformationLike | null> {
  try {
    return systemInformationOf(await import("systeminformation"));
  } catch {
    return null;
  }
}

/**
 * Reads the static facts once (call it at start, not periodically). `si` defaults to the
 * `systeminformation` package, loaded on first use. Never throws: a failing call leaves its
 * own fields `null`. The four calls run one after another, not to stack their child processes
 * on a small board.
 */
export async function readStaticFacts(
  si?: SystemInformationLike,
  options: StaticFactsOptions = {},
): Promise<StaticFacts> {
  const root = options.root ?? "/";
  const lib = si ?? (await loadSystemInformation());
  const system = lib === null ? null : await attempt(() => lib.system());
  const os = lib === null ? null : await attempt(() => lib.osInfo());
  const cpu = lib === null ? null : await attempt(() => lib.cpu());
  const mem = lib === null ? null : await attempt(() => lib.mem());
  const dtModel = await deviceTreeString(root, "model");
  const dtSerial = serial(await deviceTreeString(root, "serial-number"));

  const isPi = dtModel?.startsWith("Raspberry Pi") ?? false;
  return {
    model: dtModel ?? text(system?.model),
    manufacturer: isPi ? RASPBERRY_PI_MANUFACTURER : text(system?.manufacturer),
    serial: dtSerial ?? serial(system?.serial),
    os: {
      distro: text(os?.distro),
      release: text(os?.release),
      kernel: text(os?.kernel),
      arch: text(os?.arch),
    },
    cpu: { brand: text(cpu?.brand), cores: count(cpu?.cores) },
    memory_total_bytes: count(mem?.total),
  };
}

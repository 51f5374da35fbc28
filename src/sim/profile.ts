/**
 * Simulated device profiles: data, not code (`src/sim/devices/<name>.json`). A profile names the
 * device's identity strings, ports, boot URCs, chatter, quirk flags and timings; `notes` cite the
 * evidence for each quirk (docs/simulator.md lists them).
 */
import { readdir, readFile } from "node:fs/promises";
import { SiteError } from "../core/errors.js";
import { dataPath } from "../core/paths.js";

/** A line sent `delay_ms` (nominal, scaled by timeScale) after an event (boot, PIN unlock). */
export interface TimedLine {
  line: string;
  delay_ms: number;
}

/** A URC repeated every `interval_ms` while the device runs (Huawei `^RSSI:`...). */
export interface ChatterLine {
  /** May hold placeholders, see {@link fillTemplate}. */
  line: string;
  interval_ms: number;
}

/** One USB interface (or the one UART). Multi-port profiles get links `<link>-ifNN`. */
export interface PortSpec {
  /** `at` answers AT; `dm` (Qualcomm diagnostics) is silent and ignores input; `nmea` only emits sentences. */
  kind: "at" | "dm" | "nmea";
  /** The port that gets URCs and boot chatter (exactly one `at` port has it). */
  primary?: boolean;
  /** For `nmea`: sentence bodies without `$` and checksum, and their period in ms (nominal). */
  nmea?: { interval_ms: number; sentences: string[] };
}

/** Vendor commands that only answer where a profile lists them in `vendor_commands`. */
export const VENDOR_COMMANDS = ["+CCID", "+QCCID", "^ICCID"] as const;

export interface DeviceProfile {
  name: string;
  description: string;
  /** Evidence for the identity strings and every quirk (repo + path, or URL). */
  notes: string[];
  identity: {
    /** `AT+CGMI` line, exactly (Wavecom's has a leading space). */
    manufacturer: string;
    model: string;
    revision: string;
    /** `ATI` lines; placeholders allowed. */
    ati: string[];
    /** 8-digit type allocation code, the IMEI's prefix. */
    imei_tac: string;
  };
  ports: PortSpec[];
  /** Sent on every boot, whatever the SIM. */
  boot_urcs: TimedLine[];
  /**
   * Sent on boot by SIM state (delays from boot, like `boot_urcs`); after a PIN/PUK unlock `unlocked`
   * is sent (delays from the unlock), or `ready` when the profile has no `unlocked`.
   */
  sim_urcs: { ready: TimedLine[]; locked: TimedLine[]; absent: TimedLine[]; unlocked?: TimedLine[] };
  chatter: ChatterLine[];
  /** The final result for a command the device does not know: `ERROR`, Huawei `COMMAND NOT SUPPORT`. */
  unknown_reply: string;
  vendor_commands: string[];
  /** Standard commands this device does not have (e.g. `+CEREG` on 2G modules). */
  unsupported_commands: string[];
  /** Fixed replies by command pattern (as `on()` patterns), checked before the built-in commands. */
  replies: Record<string, string[]>;
  quirks: {
    /** `AT+CPIN?` gets `+CPIN: ...` with no final OK (Wavecom). */
    cpin_read_no_ok: boolean;
    /** Number of commands answered `+CME ERROR: 515` right after `AT+CFUN=1` (Wavecom: 2). */
    busy_after_cfun1: number;
    /** `AT+CSMP=` wipes the SMSC address (ZTE/Qualcomm firmware). */
    csmp_clears_smsc: boolean;
  };
  /** Power-on values of the volatile settings. */
  defaults: { echo: boolean; cmee: number; cnmi: number[]; smsc: string };
  /** `act`: 27.007 <AcT> appended to +CREG/+COPS (0 GSM, 2 UTRAN, 7 E-UTRAN), null = not reported. */
  network: { act: number | null };
  /** Message memories and their capacity; `default_storage` is CPMS's power-on memory. */
  sms: { storages: Record<string, number>; default_storage: string };
  /** Nominal milliseconds, multiplied by timeScale. */
  timing: { boot_ms: number; register_ms: number; cmgs_ms: number; reset_ms: number };
}

/** Values a template line may use as `{name}`. */
export type TemplateValues = Record<string, string | number>;

/** Replaces `{name}` placeholders (`{imei}`, `{rssi}`, `{iccid}`...); unknown ones stay as they are. */
export function fillTemplate(line: string, values: TemplateValues): string {
  return line.replace(/\{([a-z_]+)\}/g, (whole, key: string) =>
    Object.hasOwn(values, key) ? String(values[key]) : whole,
  );
}

function fail(name: string, what: string): never {
  throw new SiteError("config.invalid", `simulated device profile ${name}: ${what}`);
}

function isTimedList(v: unknown): v is TimedLine[] {
  return Array.isArray(v) && v.every((t) => typeof t?.line === "string" && typeof t?.delay_ms === "number");
}

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === "string");
}

/** Checks the shape of a parsed profile; throws `config.invalid` naming the first problem. */
export function validateProfile(name: string, raw: unknown): DeviceProfile {
  const p = raw as DeviceProfile;
  if (typeof p !== "object" || p === null) fail(name, "not an object");
  for (const key of ["manufacturer", "model", "revision", "imei_tac"] as const) {
    if (typeof p.identity?.[key] !== "string") fail(name, `identity.${key} must be a string`);
  }
  if (!/^\d{8}$/.test(p.identity.imei_tac)) fail(name, "identity.imei_tac must be 8 digits");
  if (!isStringList(p.identity.ati)) fail(name, "identity.ati must be a list of strings");
  if (!Array.isArray(p.ports) || p.ports.length === 0) fail(name, "ports must be a non-empty list");
  if (p.ports.filter((port) => port.kind === "at" && port.primary).length !== 1) {
    fail(name, "exactly one port must be an `at` port with primary: true");
  }
  for (const port of p.ports) {
    if (!["at", "dm", "nmea"].includes(port.kind)) fail(name, `unknown port kind ${String(port.kind)}`);
    if (port.kind === "nmea" && !(isStringList(port.nmea?.sentences) && port.nmea.interval_ms > 0)) {
      fail(name, "an nmea port needs nmea.sentences and nmea.interval_ms");
    }
  }
  if (!isTimedList(p.boot_urcs)) fail(name, "boot_urcs must be a list of {line, delay_ms}");
  for (const k of ["ready", "locked", "absent"] as const) {
    if (!isTimedList(p.sim_urcs?.[k])) fail(name, `sim_urcs.${k} must be a list of {line, delay_ms}`);
  }
  if (p.sim_urcs.unlocked !== undefined && !isTimedList(p.sim_urcs.unlocked)) fail(name, "sim_urcs.unlocked");
  if (!Array.isArray(p.chatter) || !p.chatter.every((c) => typeof c.line === "string" && c.interval_ms > 0)) {
    fail(name, "chatter must be a list of {line, interval_ms > 0}");
  }
  if (typeof p.unknown_reply !== "string") fail(name, "unknown_reply must be a string");
  if (!isStringList(p.vendor_commands) || !isStringList(p.unsupported_commands)) {
    fail(name, "vendor_commands and unsupported_commands must be lists of strings");
  }
  if (typeof p.replies !== "object" || !Object.values(p.replies ?? {}).every(isStringList)) {
    fail(name, "replies must map patterns to lists of lines");
  }
  const q = p.quirks;
  if (typeof q?.cpin_read_no_ok !== "boolean" || typeof q.csmp_clears_smsc !== "boolean") {
    fail(name, "quirks.cpin_read_no_ok and quirks.csmp_clears_smsc must be booleans");
  }
  if (!Number.isInteger(q.busy_after_cfun1) || q.busy_after_cfun1 < 0) fail(name, "quirks.busy_after_cfun1");
  const d = p.defaults;
  if (typeof d?.echo !== "boolean" || ![0, 1, 2].includes(d.cmee) || !Array.isArray(d.cnmi)) {
    fail(name, "defaults needs echo (boolean), cmee (0-2), cnmi (list)");
  }
  if (typeof d.smsc !== "string") fail(name, "defaults.smsc must be a string");
  if (!(p.network?.act === null || typeof p.network?.act === "number")) fail(name, "network.act");
  const storages = p.sms?.storages ?? {};
  if (!Object.values(storages).every((n) => Number.isInteger(n) && n > 0)) fail(name, "sms.storages");
  if (!Object.hasOwn(storages, p.sms.default_storage)) fail(name, "sms.default_storage must be a storage");
  for (const key of ["boot_ms", "register_ms", "cmgs_ms", "reset_ms"] as const) {
    if (!(typeof p.timing?.[key] === "number" && p.timing[key] >= 0)) fail(name, `timing.${key}`);
  }
  return { ...p, name };
}

/** Names of the shipped profiles (file names without `.json`), sorted. */
export async function profileNames(): Promise<string[]> {
  const files = await readdir(dataPath("sim", "devices"));
  return files
    .filter((f) => f.endsWith(".json"))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Reads and validates `src/sim/devices/<name>.json`. Throws `config.invalid` for an unknown name. */
export async function loadProfile(name: string): Promise<DeviceProfile> {
  if (!/^[a-z0-9_]+$/.test(name)) fail(name, "profile names are lower-case letters, digits and _");
  let text: string;
  try {
    text = await readFile(dataPath("sim", "devices", `${name}.json`), "utf8");
  } catch {
    const known = await profileNames().catch(() => []);
    fail(name, `no such profile (known: ${known.join(", ")})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SiteError("config.invalid", `simulated device profile ${name}: bad JSON`, { cause: err });
  }
  return validateProfile(name, raw);
}

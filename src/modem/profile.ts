/**
 * Modem quirk profiles: data files (src/modem/quirks/*.json), not `if`s in the driver. Every profile
 * starts from `generic` and overrides what its device does differently; docs/modems.md says how to write
 * one from a capture.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { UrcRegistry, type UrcSpec } from "../at/urc.js";

export interface CommandStep {
  command: string;
  /** A failing required step fails the whole stage; an optional one is logged and skipped. */
  required?: boolean;
  /** Tried when `command` fails (e.g. `AT+CREG=1` when the modem refuses `AT+CREG=2`). */
  fallback?: string;
}

export interface ModemProfile {
  name: string;
  description: string;
  match: { usbIds: string[]; manufacturer: RegExp[]; model: RegExp[] };
  /** USB interface number of the primary AT port on multi-port modems (Quectel EC25: 2). */
  atPortInterface: number | null;
  urcs: UrcSpec[];
  extraErrors: string[];
  init: CommandStep[];
  iccidCommands: string[];
  smsInit: CommandStep[];
  registrationInit: CommandStep[];
  /** `AT+CPIN?` ends at its `+CPIN:` line with no final OK (Wavecom). */
  cpinNoFinalOk: boolean;
  /** +CME error numbers meaning "busy, ask again later" (14 SIM busy, 515 init in progress). */
  busyErrors: number[];
  busyRetryMs: number;
  busyRetries: number;
  /** AT+CSMP wipes the SMSC address (ZTE/Qualcomm). */
  csmpClearsSmsc: boolean;
  /** Unsolicited lines that mean the modem restarted by itself. */
  resetUrcs: RegExp[];
  /** Unsolicited lines that mean the SIM was removed, inserted or reset (hot-swap): bring the SIM up again. */
  simChangeUrcs: RegExp[];
  /** `+CMT` / `+CDS` must be acknowledged with `AT+CNMA` (phase 2+, `AT+CSMS=1`), else the network resends. */
  smsAck: boolean;
  /** Unsolicited lines that mean the SMS storage is full: read and empty it at once. */
  storageFullUrcs: RegExp[];
  /** Per-command bounds, ms (the default one is `supervisor.command_timeout_ms`). */
  timeouts: { cfun: number; cmgs: number; cops_query: number };
  notes: string[];
}

type Json = Record<string, unknown>;

function regexList(value: unknown, where: string, problems: string[]): RegExp[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push(`${where}: must be a list of regular expressions`);
    return [];
  }
  const out: RegExp[] = [];
  for (const v of value) {
    try {
      out.push(new RegExp(String(v), "i"));
    } catch (err) {
      problems.push(`${where}: bad regular expression ${JSON.stringify(v)}: ${(err as Error).message}`);
    }
  }
  return out;
}

function steps(value: unknown, where: string, problems: string[]): CommandStep[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    problems.push(`${where}: must be a list`);
    return undefined;
  }
  const out: CommandStep[] = [];
  for (const [i, v] of value.entries()) {
    if (typeof v === "string") out.push({ command: v });
    else if (v && typeof v === "object" && typeof (v as Json).command === "string")
      out.push(v as CommandStep);
    else problems.push(`${where}[${i}]: must be a command string or {command, required?, fallback?}`);
  }
  return out;
}

/** Builds a profile from its JSON over a base (`generic`), collecting problems instead of throwing. */
export function buildProfile(
  json: Json,
  base: ModemProfile | undefined,
  file: string,
  problems: string[],
): ModemProfile | undefined {
  const p: string[] = [];
  if (typeof json.name !== "string" || !/^[a-z0-9_]+$/.test(json.name))
    p.push(`${file}: name: must be snake_case`);
  const match = (json.match ?? {}) as Json;
  const urcs: UrcSpec[] = [];
  for (const [i, u] of ((json.urcs as Json[] | undefined) ?? []).entries()) {
    try {
      urcs.push({
        name: String(u.name),
        pattern: new RegExp(String(u.pattern)),
        pduFollows: u.pdu_follows === true,
      });
    } catch (err) {
      p.push(`${file}: urcs[${i}]: ${(err as Error).message}`);
    }
  }
  const timeouts = { ...(base?.timeouts ?? { cfun: 15000, cmgs: 60000, cops_query: 10000 }) };
  Object.assign(timeouts, (json.timeouts_ms as Json | undefined) ?? {});
  const profile: ModemProfile = {
    name: String(json.name),
    description: String(json.description ?? ""),
    match: {
      usbIds: ((match.usb_ids as string[] | undefined) ?? []).map((s) => s.toLowerCase()),
      manufacturer: regexList(match.manufacturer, `${file}: match.manufacturer`, p),
      model: regexList(match.model, `${file}: match.model`, p),
    },
    atPortInterface: (json.at_port_interface as number | null | undefined) ?? base?.atPortInterface ?? null,
    urcs: [...(base?.urcs ?? []), ...urcs],
    extraErrors: [
      ...new Set([...(base?.extraErrors ?? []), ...((json.extra_errors as string[] | undefined) ?? [])]),
    ],
    init: steps(json.init, `${file}: init`, p) ?? base?.init ?? [],
    iccidCommands: (json.iccid_commands as string[] | undefined) ?? base?.iccidCommands ?? [],
    smsInit: steps(json.sms_init, `${file}: sms_init`, p) ?? base?.smsInit ?? [],
    registrationInit:
      steps(json.registration_init, `${file}: registration_init`, p) ?? base?.registrationInit ?? [],
    cpinNoFinalOk: (json.cpin_no_final_ok as boolean | undefined) ?? base?.cpinNoFinalOk ?? false,
    busyErrors: (json.busy_errors as number[] | undefined) ?? base?.busyErrors ?? [],
    busyRetryMs: (json.busy_retry_ms as number | undefined) ?? base?.busyRetryMs ?? 1000,
    busyRetries: (json.busy_retries as number | undefined) ?? base?.busyRetries ?? 0,
    csmpClearsSmsc: (json.csmp_clears_smsc as boolean | undefined) ?? base?.csmpClearsSmsc ?? false,
    resetUrcs:
      json.reset_urcs === undefined
        ? (base?.resetUrcs ?? [])
        : regexList(json.reset_urcs, `${file}: reset_urcs`, p),
    simChangeUrcs: [
      ...(base?.simChangeUrcs ?? []),
      ...(json.sim_change_urcs === undefined
        ? []
        : regexList(json.sim_change_urcs, `${file}: sim_change_urcs`, p)),
    ],
    smsAck: (json.sms_ack as boolean | undefined) ?? base?.smsAck ?? false,
    storageFullUrcs: [
      ...(base?.storageFullUrcs ?? []),
      ...(json.storage_full_urcs === undefined
        ? []
        : regexList(json.storage_full_urcs, `${file}: storage_full_urcs`, p)),
    ],
    timeouts,
    notes: (json.notes as string[] | undefined) ?? [],
  };
  if (p.length > 0) {
    problems.push(...p);
    return undefined;
  }
  return profile;
}

export interface ModemIdentityHint {
  usbId?: string | undefined;
  manufacturer?: string | undefined;
  model?: string | undefined;
}

/** The loaded profiles. `generic` is always present. */
export class ProfileSet {
  private constructor(private readonly profiles: Map<string, ModemProfile>) {}

  /** Reads every `*.json` in `dirs` (later dirs override earlier ones by name). Never throws on a bad file. */
  static async load(dirs: string[]): Promise<{ set: ProfileSet; problems: string[] }> {
    const problems: string[] = [];
    const raw = new Map<string, { json: Json; file: string }>();
    for (const dir of dirs) {
      let names: string[];
      try {
        names = (await readdir(dir)).filter((n) => n.endsWith(".json")).sort();
      } catch (err) {
        problems.push(`${dir}: ${(err as Error).message}`);
        continue;
      }
      for (const n of names) {
        const file = join(dir, n);
        try {
          const json = JSON.parse(await readFile(file, "utf8")) as Json;
          raw.set(String(json.name), { json, file });
        } catch (err) {
          problems.push(`${file}: ${(err as Error).message}`);
        }
      }
    }
    const map = new Map<string, ModemProfile>();
    const genericRaw = raw.get("generic");
    const generic = genericRaw
      ? buildProfile(genericRaw.json, undefined, genericRaw.file, problems)
      : undefined;
    if (!generic)
      throw new Error(`no usable generic modem profile in ${dirs.join(", ")}: ${problems.join("; ")}`);
    map.set("generic", generic);
    for (const [name, { json, file }] of raw) {
      if (name === "generic") continue;
      const p = buildProfile(json, generic, file, problems);
      if (p) map.set(name, p);
    }
    return { set: new ProfileSet(map), problems };
  }

  get(name: string): ModemProfile | undefined {
    return this.profiles.get(name);
  }

  names(): string[] {
    return [...this.profiles.keys()];
  }

  get generic(): ModemProfile {
    return this.profiles.get("generic")!;
  }

  /** By USB id first, then by manufacturer and model; `generic` when nothing matches. */
  select(hint: ModemIdentityHint): ModemProfile {
    const usb = hint.usbId?.toLowerCase();
    for (const p of this.profiles.values()) if (usb && p.match.usbIds.includes(usb)) return p;
    for (const p of this.profiles.values()) {
      if (p.name === "generic") continue;
      const man =
        hint.manufacturer !== undefined && p.match.manufacturer.some((r) => r.test(hint.manufacturer!));
      const mod = hint.model !== undefined && p.match.model.some((r) => r.test(hint.model!));
      if (man || (mod && p.match.manufacturer.length === 0)) return p;
    }
    return this.generic;
  }

  /** Every URC any profile knows: the channel recognises them all before it knows the modem. */
  allUrcs(): UrcSpec[] {
    const seen = new Set<string>();
    const out: UrcSpec[] = [];
    for (const p of this.profiles.values())
      for (const u of p.urcs) {
        const key = `${u.name}:${u.pattern.source}`;
        if (!seen.has(key)) {
          seen.add(key);
          out.push(u);
        }
      }
    return out;
  }

  /** A URC registry with the 27.005/27.007 base set plus every profile's URCs. */
  urcRegistry(): UrcRegistry {
    const r = new UrcRegistry();
    r.add(this.allUrcs());
    return r;
  }

  allExtraErrors(): Set<string> {
    return new Set([...this.profiles.values()].flatMap((p) => p.extraErrors));
  }
}

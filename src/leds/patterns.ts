/**
 * What each LED shows (contract, section 6), as pure functions of the site's state:
 *
 *   on    solid          good
 *   slow  1 Hz blink     working towards good (starting, searching, reconnecting)
 *   fast  4 Hz blink     needs a person (no SIM, PIN wrong, modem faulted, no modem, weak supply)
 *   off                  absent or powered off (or, for the uplink LED, no uplink configured)
 */
import type { ModemStateName } from "../core/events.js";

export type LedPattern = "on" | "slow" | "fast" | "off";

/** Modem states a person has to fix on site. */
const NEEDS_PERSON: ReadonlySet<ModemStateName> = new Set(["no_sim", "pin_required", "faulted"]);
const WORKING: ReadonlySet<ModemStateName> = new Set(["initializing", "searching", "recovering"]);

/** One modem's own LED (`modems[].led_gpio`). */
export function modemPattern(state: ModemStateName): LedPattern {
  if (state === "ready") return "on";
  if (NEEDS_PERSON.has(state)) return "fast";
  if (WORKING.has(state)) return "slow";
  return "off";
}

export interface StatusInput {
  /** ms since the site started. */
  uptimeMs: number;
  modems: ModemStateName[];
  /** The databases cannot be written (health check `storage` failed). */
  storageFailed: boolean;
  /** The board's supply is too weak now. */
  underVoltage: boolean;
}

/** How long after start a site with no modem yet still counts as starting, ms. */
export const STARTUP_GRACE_MS = 60_000;

/** The status LED (`leds.status`): the whole site. */
export function statusPattern(i: StatusInput): LedPattern {
  const starting = i.uptimeMs < STARTUP_GRACE_MS;
  if (i.storageFailed || i.underVoltage) return "fast";
  if (i.modems.some((s) => NEEDS_PERSON.has(s))) return "fast";
  const present = i.modems.filter((s) => s !== "absent");
  if (present.length === 0) return starting ? "slow" : "fast";
  if (starting && !i.modems.every((s) => s === "ready")) return "slow";
  if (i.modems.some((s) => WORKING.has(s) || s === "absent")) return "slow";
  return "on";
}

export interface UplinkInput {
  /** Undefined: no MQTT link configured. */
  mqtt?: { connected: boolean; lastError: string | null };
  /** Undefined: no SIP upstream configured. */
  sip?: { reachable: boolean | null; registered: boolean; register: boolean }[];
}

/** Errors of the NOC link that retrying will not cure: credentials, certificates, a missing file. */
const PERSON_ERRORS =
  /not authori[sz]ed|bad user ?name or password|certificate|self.signed|unable to verify|cannot read a TLS file|ENOENT/i;

/** The uplink LED (`leds.uplink`): the NOC link and the SIP upstream together. */
export function uplinkPattern(i: UplinkInput): LedPattern {
  if (i.mqtt === undefined && (i.sip === undefined || i.sip.length === 0)) return "off";
  if (i.mqtt && !i.mqtt.connected && PERSON_ERRORS.test(i.mqtt.lastError ?? "")) return "fast";
  const mqttUp = i.mqtt === undefined || i.mqtt.connected;
  const sipUp =
    i.sip === undefined ||
    i.sip.length === 0 ||
    i.sip.some((u) => u.reachable === true && (!u.register || u.registered));
  return mqttUp && sipUp ? "on" : "slow";
}

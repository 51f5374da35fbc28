/**
 * The internal typed event bus. Every feature (modems, SMS, SIP, MQTT, web, LEDs) publishes and
 * subscribes here, never to each other directly. The payload shapes of the `event/<kind>` MQTT
 * topics (contract, section 3) are these, plus `event_id` and `at` added by the outbox.
 */
import { EventEmitter } from "node:events";

export type ModemStateName =
  | "absent"
  | "initializing"
  | "pin_required"
  | "no_sim"
  | "searching"
  | "ready"
  | "recovering"
  | "faulted";

export const MODEM_STATES: readonly ModemStateName[] = [
  "absent",
  "initializing",
  "pin_required",
  "no_sim",
  "searching",
  "ready",
  "recovering",
  "faulted",
];

export type RecoveryStep = "reinit" | "radio_off_on" | "reset" | "power_cycle" | "faulted";
export const RECOVERY_STEPS: readonly RecoveryStep[] = [
  "reinit",
  "radio_off_on",
  "reset",
  "power_cycle",
  "faulted",
];

export interface SiteEvents {
  /** A modem slot changed state (contract: `event/modem_state`). */
  modem_state: { modem: string; state: ModemStateName; previous: ModemStateName; reason: string };
  /** One step of the recovery ladder ran (contract: `event/modem_recovery`). */
  modem_recovery: { modem: string; step: RecoveryStep; result: "ok" | "failed" | "skipped"; reason?: string };
  /** A modem's identity, signal or registration changed (feeds `modem/<id>`). */
  modem_info: { modem: string };
  /** An unsolicited result code from a modem, after the driver's own handling. */
  modem_urc: { modem: string; line: string; extra?: string };
}

export type SiteEventName = keyof SiteEvents;

export class EventBus {
  private readonly emitter = new EventEmitter({ captureRejections: false });

  constructor() {
    this.emitter.setMaxListeners(100);
  }

  emit<K extends SiteEventName>(name: K, payload: SiteEvents[K]): void {
    this.emitter.emit(name, payload);
  }

  on<K extends SiteEventName>(name: K, listener: (payload: SiteEvents[K]) => void): () => void {
    this.emitter.on(name, listener as (p: unknown) => void);
    return () => this.emitter.off(name, listener as (p: unknown) => void);
  }
}

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
  /** Every part of an outgoing SMS was taken by the network (`+CMGS`). */
  sms_sent: { id: string; modem: string; to: string; parts: number };
  /** An outgoing SMS will not go: permanent error, attempts used up, expired, or outcome unknown. */
  sms_failed: { id: string; to: string; code: string; error: string };
  /** A whole incoming SMS is stored (parts joined; `missing_parts` > 0 when some never came). */
  sms_received: {
    id: string;
    modem: string;
    from: string;
    to: string | null;
    text: string;
    parts: number;
    missing_parts: number;
    received_at: string;
  };
  /** The network's final word on an SMS we sent (status reports of all its parts). */
  delivery_report: { id: string; to: string; status: "delivered" | "failed"; detail: string };
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

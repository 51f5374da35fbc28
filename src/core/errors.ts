/**
 * The one error class of the project. Every failure that crosses a module boundary is a
 * `SiteError` with a stable string `code` (used by the MQTT and web APIs as `code`) and,
 * where there was one, the original error as `cause`.
 */
export type SiteErrorCode =
  | "at.timeout"
  | "at.error"
  | "at.cme"
  | "at.cms"
  | "at.closed"
  | "at.busy"
  | "at.aborted"
  | "serial.open"
  | "serial.write"
  | "modem.unplugged"
  | "modem.pin_rejected"
  | "modem.no_sim"
  | "modem.not_ready"
  | "modem.unknown"
  | "config.invalid"
  | "config.read"
  | "storage.open"
  | "storage.migrate"
  | "gpio.unavailable"
  | "gpio.write"
  | "sim.control"
  | "usage"
  | "sms.encode"
  | "sms.decode"
  | "sms.invalid"
  | "sms.too_long"
  | "sms.queue_full"
  | "sms.not_found"
  | "sms.storage"
  | "sms.unknown"
  | "sip.rp"
  | "sip.number"
  | "sip.auth"
  | "sip.listen"
  | "sip.transport"
  | "sip.parse"
  | "sub.invalid"
  | "sub.not_found"
  | "sync.gap"
  | "sync.hash"
  | "sync.invalid"
  | "sub.unavailable"
  | "request.invalid"
  | "command.unknown"
  | "leds.unavailable"
  | "mqtt.tls"
  | "remote.timeout"
  | "internal";

export class SiteError extends Error {
  readonly code: SiteErrorCode;
  /** Extra, machine-readable detail (e.g. `{ number: 332 }` for a +CMS ERROR). */
  readonly detail: Record<string, unknown>;

  constructor(
    code: SiteErrorCode,
    message: string,
    options?: { cause?: unknown; detail?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SiteError";
    this.code = code;
    this.detail = options?.detail ?? {};
  }
}

export function isSiteError(err: unknown, code?: SiteErrorCode): err is SiteError {
  return err instanceof SiteError && (code === undefined || err.code === code);
}

/** A readable one-line text for any thrown value. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Schema of the hardware-facing keys: `modems`, `supervisor`, `discovery`, `gpio` and `leds`.
 * Assembled into the whole schema by `schema.ts`.
 */
import { BAUD_RATES, gpioLine, type JsonSchema, key, PATTERNS, section } from "./schemaParts.js";

const MODEM_ITEM: JsonSchema = section(
  "Modem",
  "One GSM modem of the site.",
  {
    id: key("Modem id", "Stable name of the modem in MQTT topics, events and logs.", {
      type: "string",
      pattern: PATTERNS.modemId.pattern,
      requires_restart: true,
      unset_means: "the modem's IMEI",
    }),
    port: key(
      "Serial port",
      'AT port of the modem; prefer a /dev/serial/by-id/ path. "auto": the modem is found by discovery and bound by `imei`.',
      { type: "string", pattern: PATTERNS.port.pattern, default: "auto", requires_restart: true },
    ),
    imei: key("IMEI", "Binds this entry to one physical modem, whatever port it appears on.", {
      type: "string",
      pattern: PATTERNS.imei.pattern,
      requires_restart: true,
      unset_means: "any modem found on `port`",
    }),
    baud: key("Baud rate", "Serial speed of the AT port.", {
      type: "integer",
      enum: BAUD_RATES,
      default: 115200,
      unit: "baud",
      requires_restart: true,
    }),
    pin: key("SIM PIN", "Entered when the SIM asks for it. Never logged.", {
      type: "string",
      pattern: PATTERNS.pin.pattern,
      requires_restart: true,
      unset_means: "no PIN: a SIM that asks for one leaves the modem in pin_required",
    }),
    power_gpio: gpioLine(
      "Power GPIO line",
      "Line that powers the modem: 1 = on, 0 = off. Driven to 1 before the modem is probed.",
      "the modem cannot be power-cycled (the recovery ladder skips that step)",
    ),
    led_gpio: gpioLine("LED GPIO line", "LED showing this modem's state (contract, section 6).", "no LED"),
    networks: key("Networks", "Names of the networks (`networks[].name`) this modem sends for, in order.", {
      type: "array",
      items: { type: "string", pattern: PATTERNS.networkName.pattern },
      uniqueItems: true,
      default: [],
      requires_restart: false,
      examples: [["local"]],
    }),
    rate_per_minute: key(
      "Rate limit",
      "Most SMS parts this modem sends per minute (SIM plans limit it). 0: no limit.",
      { type: "integer", minimum: 0, maximum: 600, default: 0, requires_restart: false },
    ),
    daily_limit: key(
      "Daily cap",
      "Most SMS parts this modem sends per day (local midnight to midnight). 0: no cap.",
      { type: "integer", minimum: 0, maximum: 1000000, default: 0, requires_restart: false },
    ),
    inbound_to: key("Inbound target", "SIP URI for SMS received by this modem that name no other target.", {
      type: "string",
      pattern: PATTERNS.sipUri.pattern,
      requires_restart: false,
      unset_means: "sip.inbound_default",
    }),
    power_off_ms: key("Power-off time", "How long a power cycle holds `power_gpio` at 0 before 1 again.", {
      type: "integer",
      minimum: 100,
      maximum: 600000,
      default: 2000,
      unit: "ms",
      requires_restart: false,
    }),
    boot_wait_ms: key(
      "Boot wait",
      "How long after a power-on or reset to wait for the modem's tty to come back before giving up.",
      {
        type: "integer",
        minimum: 1000,
        maximum: 600000,
        default: 30000,
        unit: "ms",
        requires_restart: false,
      },
    ),
    profile: key(
      "Quirk profile",
      'Forces a quirk profile by name; "auto" picks it from the modem\'s identity.',
      {
        type: "string",
        pattern: PATTERNS.profile.pattern,
        default: "auto",
        requires_restart: true,
      },
    ),
  },
  { noDefault: true },
);

/** `modems`: a list, replaced whole by a higher layer. */
export const MODEMS_SCHEMA: JsonSchema = key(
  "Modems",
  "The site's modems. Empty: every modem discovery finds is used, named by its IMEI.",
  { type: "array", items: MODEM_ITEM, default: [], requires_restart: true },
);

export const SUPERVISOR_SCHEMA: JsonSchema = section(
  "Modem supervisor",
  "Health probes of each modem and the recovery ladder (reinit, radio off/on, reset, power cycle, faulted).",
  {
    probe_interval_ms: key("Probe interval", "Time between two health probes of a ready modem.", {
      type: "integer",
      minimum: 1000,
      maximum: 3600000,
      default: 30000,
      unit: "ms",
      requires_restart: true,
    }),
    command_timeout_ms: key("AT command timeout", "Default time an AT command may take before it fails.", {
      type: "integer",
      minimum: 100,
      maximum: 600000,
      default: 5000,
      unit: "ms",
      requires_restart: true,
    }),
    failures_before_recovery: key("Failures before recovery", "Failed probes in a row that start recovery.", {
      type: "integer",
      minimum: 1,
      maximum: 100,
      default: 2,
      requires_restart: true,
    }),
    searching_recovery_ms: key(
      "Searching too long",
      "A modem not registered to any network for this long goes through the recovery ladder (radio off/on often " +
        "unsticks registration); 0 turns this off.",
      {
        type: "integer",
        minimum: 0,
        maximum: 86400000,
        default: 1800000,
        unit: "ms",
        requires_restart: true,
      },
    ),
    step_timeout_ms: key("Recovery step timeout", "Upper bound of each step of the recovery ladder.", {
      type: "integer",
      minimum: 1000,
      maximum: 3600000,
      default: 60000,
      unit: "ms",
      requires_restart: true,
    }),
    faulted_backoff_ms: key("Faulted backoff", "First retry after a modem went faulted; doubles each time.", {
      type: "integer",
      minimum: 1000,
      maximum: 86400000,
      default: 60000,
      unit: "ms",
      requires_restart: true,
    }),
    faulted_backoff_max_ms: key(
      "Faulted backoff limit",
      "Longest wait between two retries of a faulted modem.",
      {
        type: "integer",
        minimum: 1000,
        maximum: 86400000,
        default: 1800000,
        unit: "ms",
        requires_restart: true,
      },
    ),
  },
);

export const DISCOVERY_SCHEMA: JsonSchema = section(
  "Modem discovery",
  "How serial ports are scanned for modems (for `port: auto` entries and an empty `modems` list).",
  {
    globs: key("Port patterns", "Paths scanned for AT ports (shell globs). Empty: no discovery.", {
      type: "array",
      items: { type: "string", pattern: PATTERNS.absPath.pattern },
      uniqueItems: true,
      default: ["/dev/serial/by-id/*", "/dev/ttyUSB*", "/dev/ttyACM*"],
      requires_restart: true,
    }),
    interval_ms: key("Scan interval", "Time between two scans for new or returning ports.", {
      type: "integer",
      minimum: 500,
      maximum: 3600000,
      default: 5000,
      unit: "ms",
      requires_restart: true,
    }),
    probe_timeout_ms: key("Probe timeout", "How long a port may take to answer AT before it is skipped.", {
      type: "integer",
      minimum: 100,
      maximum: 60000,
      default: 1000,
      unit: "ms",
      requires_restart: true,
    }),
    baud: key("Probe baud rate", "Serial speed used to probe a port.", {
      type: "integer",
      enum: BAUD_RATES,
      default: 115200,
      unit: "baud",
      requires_restart: true,
    }),
  },
);

export const GPIO_SCHEMA: JsonSchema = section("GPIO", "How GPIO lines (modem power, LEDs) are driven.", {
  driver: key(
    "Driver",
    '"onoff": the board\'s lines through the kernel; "sim": plain files, for tests and demos.',
    {
      type: "string",
      enum: ["onoff", "sim"],
      default: "onoff",
      requires_restart: true,
    },
  ),
  sim_dir: key(
    "Simulated GPIO folder",
    'With driver "sim": line N is the file <sim_dir>/gpio<N>, "0" or "1".',
    {
      type: "string",
      pattern: PATTERNS.absPath.pattern,
      default: "/run/bts-gpio",
      requires_restart: true,
    },
  ),
  chip_label: key("GPIO chip label", "Label of the gpiochip whose base line numbers are counted from.", {
    type: "string",
    pattern: PATTERNS.nonEmpty.pattern,
    requires_restart: true,
    unset_means: "the board's main gpiochip, found automatically",
  }),
});

export const LEDS_SCHEMA: JsonSchema = section("LEDs", "Status LEDs on GPIO lines (contract, section 6).", {
  status: gpioLine("Status LED", "The site's overall state.", "no status LED"),
  uplink: gpioLine("Uplink LED", "The NOC link (MQTT) and the SIP upstream.", "no uplink LED"),
});

/**
 * The configuration as the rest of the code reads it: validated, every default filled in.
 * Mirrors `CONFIG_SCHEMA` (`schema.ts`), where each key's range, default and meaning is written;
 * an optional field (`?`) is a key without a default, whose absence means what the schema's
 * `unset_means` says. Treat a `SiteConfig` as read-only: changes go through `config/set`.
 */

export type LogLevelName = "trace" | "debug" | "info" | "warn" | "error";

export interface SiteSection {
  /** `^[a-z0-9-]{1,32}$`. Required. */
  id: string;
  /** Default "": the id is shown. */
  name: string;
}

export interface StorageConfig {
  /** Absolute path. Default "/var/lib/bts-site". */
  dir: string;
}

/** One entry of `modems`. */
export interface ModemConfig {
  /** `^[A-Za-z0-9_-]{1,32}$`. Unset: the modem's IMEI. */
  id?: string;
  /** AT port path, or "auto" (found by discovery, bound by `imei`). Default "auto". */
  port: string;
  /** 14 to 16 digits. Unset: any modem found on `port`. */
  imei?: string;
  /** One of 9600 ... 921600 baud. Default 115200. */
  baud: number;
  /** SIM PIN, 4 to 8 digits. */
  pin?: string;
  /** GPIO line 0..1023 powering the modem (1 = on). Unset: no power cycle. */
  power_gpio?: number;
  /** GPIO line 0..1023 of this modem's LED. */
  led_gpio?: number;
  /** Network names this modem sends for, in order. Default []: every network. */
  networks: string[];
  /** SMS parts per minute, 0..600; 0 (default): no limit. */
  rate_per_minute: number;
  /** SMS parts per local day, 0..1000000; 0 (default): no cap. */
  daily_limit: number;
  /** SIP URI for SMS that name no other target. Unset: `sip.inbound_default`. */
  inbound_to?: string;
  /** Power-off hold of a power cycle, ms, 100..600000. Default 2000. */
  power_off_ms: number;
  /** Wait for the tty after power-on or reset, ms, 1000..600000. Default 30000. */
  boot_wait_ms: number;
  /** Quirk profile name, or "auto". Default "auto". */
  profile: string;
}

/** One entry of `networks`. */
export interface NetworkConfig {
  name: string;
  /** Literal E.164 prefixes ("+256"); "+" = all. Default ["+"]. */
  prefixes: string[];
  /** SMS sent per turn, 1..1000. Default 10. */
  max_per_loop: number;
}

export interface SmsConfig {
  /** 1..10. Default 4. */
  max_parts: number;
  /** Default "reject". */
  too_long: "reject" | "truncate";
  /** Default true. */
  delivery_reports: boolean;
  /** A network name; "" (default): the first of `networks`. */
  default_network: string;
  /** Pending SMS above which new ones are refused, 1..1000000. Default 10000. */
  queue_limit: number;
  /** Temporary failures per part before the message fails, 1..100. Default 5. */
  max_attempts: number;
  /** First retry delay, s; doubles. Default 30. */
  retry_base_s: number;
  /** Longest retry delay, s. Default 900. */
  retry_max_s: number;
  /** A message not sent this long after acceptance expires, s. Default 259200 (3 days). */
  expiry_s: number;
  /** TP-VP, minutes; 0: none. Default 4320 (3 days). */
  validity_minutes: number;
  /** Status reports are matched this long after sending, s. Default 259200. */
  report_window_s: number;
  /** Wait for the modem of a half-sent message before sending it whole elsewhere, s. Default 300. */
  failover_after_s: number;
  /** Incoming parts wait this long for the missing ones, s. Default 3600. */
  reassembly_timeout_s: number;
  /** Settled and received SMS are deleted after this many days, 1..3650. Default 30. */
  retention_days: number;
  /** Modem SMS storage read every this long, s. Default 60. */
  sweep_interval_s: number;
}

export interface GpioConfig {
  /** Default "onoff". */
  driver: "onoff" | "sim";
  /** With driver "sim": line N is the file `<sim_dir>/gpio<N>`. Default "/run/bts-gpio". */
  sim_dir: string;
  /** Unset: the board's main gpiochip, found automatically. */
  chip_label?: string;
}

export interface LedsConfig {
  /** GPIO line 0..1023. Unset: no status LED. */
  status?: number;
  /** GPIO line 0..1023. Unset: no uplink LED. */
  uplink?: number;
}

export interface SipNumberingConfig {
  /** Without "+"; "" (default): national numbers are not rewritten. */
  country_code: string;
  /** Default "0". */
  national_prefix: string;
  /** Default "00". */
  international_prefix: string;
}

export interface SipAuthConfig {
  /** Unset: the site id. */
  realm?: string;
  /** User name → password. Default {}. */
  users: Record<string, string>;
}

export interface SipUpstreamConfig {
  /** `sip:` or `sips:` URI. Required when `upstream` is set. */
  uri: string;
  /** Default []. */
  fallback: string[];
  /** Default false. */
  register: boolean;
  /** Unset: the site id. */
  username?: string;
  password?: string;
  /** REGISTER Expires, s, 60..86400. Default 3600. */
  register_expires_s: number;
  /** OPTIONS interval, s, 5..3600. Default 30. */
  keepalive_s: number;
  /** Retry limit of a MESSAGE to the upstream, s, 60..2592000. Default 259200 (3 days). */
  expiry_s: number;
}

export interface SipConfig {
  /** "host:port". Default "0.0.0.0:5060". */
  listen: string;
  /** Unset: the host of `upstream.uri`, else the site id. */
  domain?: string;
  numbering: SipNumberingConfig;
  /** Addresses or CIDR ranges. Default ["127.0.0.0/8", "::1/128"]. */
  trusted: string[];
  /** Unset: no authentication (403 outside `trusted`). */
  auth?: SipAuthConfig;
  /** Unset: no outbound proxy, no REGISTER. */
  upstream?: SipUpstreamConfig;
  inbound_default?: string;
}

export interface ServicesConfig {
  /** Default "9189"; "" turns it off. */
  echo: string;
  /** Default "101"; "" turns it off. */
  register: string;
}

export interface MqttConfig {
  /** Unset: no NOC link. */
  url?: string;
  /** Default "bts". */
  base_topic: string;
  /** Default 5. */
  protocol_version: 4 | 5;
  username?: string;
  password?: string;
  /** PEM file paths. */
  ca?: string;
  cert?: string;
  key?: string;
  /** Unset: `bts-site-<site.id>`. */
  client_id?: string;
  /** s, 5..65535. Default 60. */
  keepalive_s: number;
  /** s, 10..86400. Default 300. */
  telemetry_interval_s: number;
  /** s, 60..604800. Default 3600. */
  telemetry_max_interval_s: number;
  /** s, 1..3600. Default 10. */
  state_min_interval_s: number;
  /** s, 1..3600. Default 5. */
  reconnect_min_s: number;
  /** s, 1..86400. Default 300. */
  reconnect_max_s: number;
  /** Events, 100..1000000. Default 10000. */
  outbox_limit: number;
}

export interface WebConfig {
  /** "host:port". Default "0.0.0.0:80". */
  listen: string;
  /** Unset: the page is read-only. */
  password_hash?: string;
}

export interface SupervisorConfig {
  /** ms, 1000..3600000. Default 30000. */
  probe_interval_ms: number;
  /** Default per-AT-command timeout, ms, 100..600000. Default 5000. */
  command_timeout_ms: number;
  /** 1..100. Default 2. */
  failures_before_recovery: number;
  /** Not registered this long starts the ladder, ms, 0..86400000 (0: never). Default 1800000. */
  searching_recovery_ms: number;
  /** Bound of each recovery step, ms, 1000..3600000. Default 60000. */
  step_timeout_ms: number;
  /** First retry after faulted (doubles each time), ms. Default 60000. */
  faulted_backoff_ms: number;
  /** ms. Default 1800000. */
  faulted_backoff_max_ms: number;
}

export interface DiscoveryConfig {
  /** Default ["/dev/serial/by-id/*", "/dev/ttyUSB*", "/dev/ttyACM*"]; [] = no discovery. */
  globs: string[];
  /** ms, 500..3600000. Default 5000. */
  interval_ms: number;
  /** ms, 100..60000. Default 1000. */
  probe_timeout_ms: number;
  /** baud. Default 115200. */
  baud: number;
}

export interface LogConfig {
  /** Default "info". */
  level: LogLevelName;
  /** Namespace (or prefix ending in "*") → level. Default {}. */
  levels: Record<string, LogLevelName>;
}

/** The whole, defaulted configuration. */
export interface SiteConfig {
  site: SiteSection;
  storage: StorageConfig;
  modems: ModemConfig[];
  networks: NetworkConfig[];
  sms: SmsConfig;
  gpio: GpioConfig;
  leds: LedsConfig;
  sip: SipConfig;
  services: ServicesConfig;
  mqtt: MqttConfig;
  web: WebConfig;
  supervisor: SupervisorConfig;
  discovery: DiscoveryConfig;
  log: LogConfig;
}

/** Where the value of a key came from (contract, `config/get`). */
export type ConfigSource = "default" | "file" | "boot" | "runtime";

/**
 * Pure parsers for the `/proc` and `/sys` files the {@link SystemSampler} reads. No I/O: each
 * takes the file's text and returns plain data, or `null` when the text is not what the kernel
 * writes (empty, truncated, garbage). They never throw.
 *
 * Formats (Linux, `Documentation/filesystems/proc.rst` and the sysfs ABI):
 * - `/proc/stat`     first line `cpu  user nice system idle iowait irq softirq steal guest guest_nice`
 *                    in USER_HZ ticks; guest time is already counted in user/nice.
 * - `/proc/meminfo`  `MemTotal:  3884376 kB` (the unit is KiB); `MemAvailable` since Linux 3.14.
 * - `/proc/loadavg`  `0.52 0.58 0.59 1/456 12345`.
 * - `/proc/uptime`   `12345.67 23456.78`: seconds since boot, then idle seconds summed over cores.
 * - `/proc/net/dev`  two header lines, then `  eth0: rx_bytes rx_packets … (8 rx fields) tx_bytes …`
 *                    (`"%6s: %7llu …"`, net/core/net-procfs.c): a name of 7+ characters pushes
 *                    the columns right; 2.6-era kernels wrote `"%6s:%8lu"`, so `eth0:418332017`.
 * - `get_throttled`  the Raspberry Pi firmware's throttling word, see {@link parseThrottled}.
 */

/** Busy and total time of all cores from `/proc/stat`, in USER_HZ ticks (usually 1/100 s). */
export interface CpuTimes {
  /** user + nice + system + idle + iowait + irq + softirq + steal. */
  total: number;
  /** idle + iowait: time the cores had nothing to run. */
  idle: number;
}

/** `MemTotal` and `MemAvailable` of `/proc/meminfo`, in bytes. */
export interface Meminfo {
  total_bytes: number;
  /** `null` on kernels before 3.14, which have no `MemAvailable`. */
  available_bytes: number | null;
}

/** The three load averages of `/proc/loadavg` (runnable + uninterruptible tasks). */
export interface Loadavg {
  load_1m: number;
  load_5m: number;
  load_15m: number;
}

/** Byte counters of one interface, or of several summed. */
export interface NetCounters {
  rx_bytes: number;
  tx_bytes: number;
}

/** `/proc/net/dev`: totals over the counted interfaces, and each of them by name. */
export interface NetDev extends NetCounters {
  interfaces: Record<string, NetCounters>;
}

/**
 * The Raspberry Pi firmware's throttling word (`vcgencmd get_throttled`, or the kernel's
 * `get_throttled` sysfs file). The low 16 bits are the live state, the high 16 bits the sticky
 * history: set with the live bit and kept until something asks the firmware to clear them.
 * The kernel's raspberrypi-hwmon driver does so at each of its polls (every 2 s), so whenever
 * that driver is loaded `*_occurred` means "in the last poll interval", not "since boot"
 * (docs/system-figures.md).
 */
export interface ThrottledFlags {
  /** Bit 0: the firmware sees the supply under-voltage now. */
  under_voltage_now: boolean;
  /** Bit 1: ARM frequency capped now. */
  freq_capped_now: boolean;
  /** Bit 2: throttled now. */
  throttled_now: boolean;
  /** Bit 3: soft temperature limit active now. */
  soft_temp_limit_now: boolean;
  /** Bit 16. */
  under_voltage_occurred: boolean;
  /** Bit 17. */
  freq_capped_occurred: boolean;
  /** Bit 18. */
  throttled_occurred: boolean;
  /** Bit 19. */
  soft_temp_limit_occurred: boolean;
  /** The whole word as vcgencmd prints it, e.g. `"0x50005"`. */
  raw: string;
}

/** Bit numbers of the throttling word, as documented for `vcgencmd get_throttled`. */
export const THROTTLED_BITS = {
  under_voltage_now: 0,
  freq_capped_now: 1,
  throttled_now: 2,
  soft_temp_limit_now: 3,
  under_voltage_occurred: 16,
  freq_capped_occurred: 17,
  throttled_occurred: 18,
  soft_temp_limit_occurred: 19,
} as const;

const DECIMAL = /^\d+(?:\.\d+)?$/;

function nonNegative(text: string | undefined): number | null {
  if (text === undefined || !DECIMAL.test(text)) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** Rounds to one decimal: the precision of every percentage and temperature in a sample. */
export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Parses the aggregate `cpu` line (the first) of `/proc/stat`. */
export function parseProcStat(text: string): CpuTimes | null {
  if (!text.startsWith("cpu ")) return null;
  const end = text.indexOf("\n");
  const fields = text
    .slice(4, end === -1 ? undefined : end)
    .trim()
    .split(/\s+/);
  if (fields.length < 4) return null;
  let total = 0;
  // Fields 0-7: user nice system idle iowait irq softirq steal. 8-9 (guest, guest_nice) are
  // already inside user and nice, so adding them would count guest time twice.
  for (let i = 0; i < Math.min(fields.length, 8); i++) {
    const n = nonNegative(fields[i]);
    if (n === null) return null;
    total += n;
  }
  const idle = Number(fields[3]) + (fields.length > 4 ? Number(fields[4]) : 0);
  return { total, idle };
}

/**
 * Share of time the cores were busy between two `/proc/stat` readings, 0-100 with one
 * decimal; `null` when no tick passed in between or the counters went backwards.
 */
export function cpuPercent(previous: CpuTimes, current: CpuTimes): number | null {
  const total = current.total - previous.total;
  const idle = current.idle - previous.idle;
  if (!(total > 0) || idle < 0 || idle > total) return null;
  return round1(((total - idle) / total) * 100);
}

const MEM_TOTAL = /^MemTotal:\s*(\d+)\s*kB\s*$/m;
const MEM_AVAILABLE = /^MemAvailable:\s*(\d+)\s*kB\s*$/m;

/** Parses `MemTotal` and `MemAvailable` of `/proc/meminfo`; `null` without `MemTotal`. */
export function parseMeminfo(text: string): Meminfo | null {
  const total = MEM_TOTAL.exec(text);
  if (total === null) return null;
  const available = MEM_AVAILABLE.exec(text);
  return {
    total_bytes: Number(total[1]) * 1024,
    available_bytes: available === null ? null : Number(available[1]) * 1024,
  };
}

/** Parses `/proc/loadavg`. */
export function parseLoadavg(text: string): Loadavg | null {
  const [one, five, fifteen] = text.trim().split(/\s+/, 3);
  const load1 = nonNegative(one);
  const load5 = nonNegative(five);
  const load15 = nonNegative(fifteen);
  if (load1 === null || load5 === null || load15 === null) return null;
  return { load_1m: load1, load_5m: load5, load_15m: load15 };
}

/** Parses `/proc/uptime`: seconds since boot (two decimals as the kernel writes them). */
export function parseUptime(text: string): number | null {
  return nonNegative(text.trim().split(/\s+/, 1)[0]);
}

/**
 * Parses `/proc/net/dev`. Interfaces named in `exclude` (by default the loopback `lo`, whose
 * traffic never leaves the board) are left out of both the totals and the list. Lines that do
 * not parse are skipped; `null` only when the header is missing.
 */
export function parseNetDev(text: string, exclude: readonly string[] = ["lo"]): NetDev | null {
  const lines = text.split("\n");
  if (!lines[0]?.startsWith("Inter-") || !lines[1]?.includes("face")) return null;
  const interfaces: Record<string, NetCounters> = {};
  let rx = 0;
  let tx = 0;
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim();
    if (name === "" || exclude.includes(name)) continue;
    const fields = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    const rxBytes = nonNegative(fields[0]);
    const txBytes = nonNegative(fields[8]);
    if (rxBytes === null || txBytes === null) continue;
    interfaces[name] = { rx_bytes: rxBytes, tx_bytes: txBytes };
    rx += rxBytes;
    tx += txBytes;
  }
  return { rx_bytes: rx, tx_bytes: tx, interfaces };
}

/**
 * Parses the Raspberry Pi throttling word. Accepted spellings:
 * - `50005` — the kernel's `get_throttled` sysfs file, which is written with `"%x\n"`: bare
 *   digits are therefore HEX (raspberrypi/linux drivers/firmware/raspberrypi.c,
 *   `get_throttled_show`; the file came with raspberrypi/linux#2397, whose own example reads it
 *   with `int(status, 16)`);
 * - `0x50005` and `throttled=0x50005` — vcgencmd's form.
 * A decimal spelling cannot be told apart from bare hex, so it is not accepted as such.
 * Anything else (empty, garbage, more than 32 bits) gives `null`.
 */
export function parseThrottled(text: string): ThrottledFlags | null {
  let s = text.trim().toLowerCase();
  if (s.startsWith("throttled=")) s = s.slice("throttled=".length);
  if (s.startsWith("0x")) s = s.slice(2);
  if (!/^[0-9a-f]{1,8}$/.test(s)) return null;
  const word = Number.parseInt(s, 16);
  const bit = (n: number) => (word & (1 << n)) !== 0;
  return {
    under_voltage_now: bit(THROTTLED_BITS.under_voltage_now),
    freq_capped_now: bit(THROTTLED_BITS.freq_capped_now),
    throttled_now: bit(THROTTLED_BITS.throttled_now),
    soft_temp_limit_now: bit(THROTTLED_BITS.soft_temp_limit_now),
    under_voltage_occurred: bit(THROTTLED_BITS.under_voltage_occurred),
    freq_capped_occurred: bit(THROTTLED_BITS.freq_capped_occurred),
    throttled_occurred: bit(THROTTLED_BITS.throttled_occurred),
    soft_temp_limit_occurred: bit(THROTTLED_BITS.soft_temp_limit_occurred),
    raw: `0x${word.toString(16)}`,
  };
}

/** Plausible range of a thermal zone, in °C; outside it a zone is reporting a sentinel. */
const PLAUSIBLE_C = { min: -60, max: 200 } as const;

/**
 * Parses a `thermal_zone<N>/temp` or `hwmon<N>/temp<M>_input` value (millidegrees Celsius) into °C
 * with one decimal. `null` for garbage and for values outside -60…200 °C, which some drivers
 * use as "no reading" sentinels.
 */
export function parseMillidegrees(text: string): number | null {
  const s = text.trim();
  if (!/^-?\d+$/.test(s)) return null;
  const c = Number(s) / 1000;
  if (c < PLAUSIBLE_C.min || c > PLAUSIBLE_C.max) return null;
  return round1(c);
}

/** Parses a sysfs boolean attribute such as `in0_lcrit_alarm`: `"0"`/`"1"`, else `null`. */
export function parseSysfsFlag(text: string): boolean | null {
  const s = text.trim();
  if (s === "0") return false;
  if (s === "1") return true;
  return null;
}

/**
 * The GPIO seam: the rest of the site (modem power keys, reset lines, status LEDs) drives output
 * lines through these two interfaces and never learns which driver is behind them.
 *
 *   createGpioDriver(config) ─┬─ "onoff" → /sys/class/gpio via the onoff package (real board)
 *                             └─ "sim"   → one small file per line (tests, demo, modem simulator)
 *
 * Errors are `SiteError("gpio.unavailable")` (a line or the driver cannot be used) or
 * `SiteError("gpio.write")` (setting a level failed), with the underlying error as `cause`.
 */

/** A logic level: 0 = low, 1 = high. */
export type GpioValue = 0 | 1;

/** One line claimed as an output. */
export interface GpioLine {
  /** The SoC line number (BCM numbering on a Raspberry Pi, e.g. 17 for GPIO17), not the sysfs number. */
  readonly line: number;
  /** Drives the line to `value`. Rejects with `gpio.write`. */
  write(value: GpioValue): Promise<void>;
  /** Reads the line's current level. Rejects with `gpio.unavailable`. */
  read(): Promise<GpioValue>;
  /** Releases the line; further writes reject with `gpio.write`. Idempotent. */
  close(): Promise<void>;
}

/** A source of output lines. */
export interface GpioDriver {
  /** The driver's name as written in the config (`"onoff"`, `"sim"`). */
  readonly name: string;
  /**
   * Claims `line` (SoC numbering) as an output, driven to `initial` as it is claimed.
   * Rejects with `gpio.unavailable` if the line does not exist or is already claimed.
   */
  output(line: number, initial: GpioValue): Promise<GpioLine>;
  /** Releases every line this driver claimed. Idempotent. */
  close(): Promise<void>;
}

/** Parses a level as stored by sysfs or the sim files: `0` or `1`, with or without a trailing newline. */
export function parseGpioValue(text: string): GpioValue | undefined {
  if (text === "0" || text === "0\n") return 0;
  if (text === "1" || text === "1\n") return 1;
  return undefined;
}

/** Checks that `line` is a plausible SoC line number (an integer from 0 to 1023). */
export function isValidLineNumber(line: number): boolean {
  return Number.isInteger(line) && line >= 0 && line < 1024;
}

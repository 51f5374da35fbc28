/**
 * GPIO driver `onoff`: the legacy sysfs interface (/sys/class/gpio) through the onoff package.
 *
 *   start(): import("onoff") → Gpio.accessible? → findGpioChip(sysRoot) → base
 *   output(17, 0): new Gpio(base + 17, "low") → writeSync / readSync → unexport() on close
 *
 * onoff is loaded only in `start()` (or the first `output()`), so importing this file costs
 * nothing and hosts without onoff or its native epoll addon run the `sim` driver unaffected.
 * The sysfs root used for base detection is injectable; onoff itself always uses the real /sys.
 */
import { SiteError } from "../core/errors.js";
import { type GpioDriver, type GpioLine, type GpioValue, isValidLineNumber } from "./gpio.js";
import { findGpioChip, type GpioChipInfo, sysfsNumber } from "./sysfsBase.js";

/** The part of an onoff `Gpio` object this driver uses. */
export interface OnoffGpioLike {
  readSync(): GpioValue;
  writeSync(value: GpioValue): void;
  unexport(): void;
}

/** The part of onoff's `Gpio` class this driver uses. */
export interface OnoffGpioClass {
  new (gpio: number, direction: "high" | "low"): OnoffGpioLike;
  /** onoff's check that /sys/class/gpio/export can be opened for writing. */
  readonly accessible: boolean;
}

/** Loads the onoff module; tests inject a fake class, production imports the real package. */
export type OnoffLoader = () => Promise<{ Gpio: OnoffGpioClass }>;

/** Options of {@link OnoffGpioDriver}. */
export interface OnoffGpioOptions {
  /** Root under which `sys/class/gpio` is read for base detection; default `/`. */
  sysRoot?: string;
  /** Label of the GPIO chip to use instead of the known Raspberry Pi labels (see sysfsBase.ts). */
  chipLabel?: string;
  /** How onoff is loaded; default `import("onoff")`. */
  loadOnoff?: OnoffLoader;
}

const importOnoff: OnoffLoader = async () => {
  const mod = (await import("onoff")) as unknown as {
    Gpio?: OnoffGpioClass;
    default?: { Gpio: OnoffGpioClass };
  };
  const Gpio = mod.Gpio ?? mod.default?.Gpio;
  if (!Gpio) throw new Error("the onoff module has no Gpio export");
  return { Gpio };
};

/** GPIO driver `onoff`. Lines are numbered as on the SoC (BCM numbering); the sysfs base is added here. */
export class OnoffGpioDriver implements GpioDriver {
  readonly name = "onoff";
  private readonly options: OnoffGpioOptions;
  private readonly lines = new Map<number, OnoffGpioLine>();
  private started: Promise<{ Gpio: OnoffGpioClass; chip: GpioChipInfo }> | undefined;

  constructor(options: OnoffGpioOptions = {}) {
    this.options = options;
  }

  /**
   * Loads onoff and finds the GPIO base. Idempotent; `output()` calls it too. Rejects with
   * `gpio.unavailable` when onoff cannot be loaded, sysfs GPIO is not writable, or no known chip is found.
   */
  async start(): Promise<void> {
    await this.ready();
  }

  /** The chip in use (starting the driver if needed), for logs and the health page. */
  async chip(): Promise<GpioChipInfo> {
    return (await this.ready()).chip;
  }

  async output(line: number, initial: GpioValue): Promise<GpioLine> {
    const { Gpio, chip } = await this.ready();
    if (!isValidLineNumber(line) || line >= chip.ngpio) {
      throw new SiteError(
        "gpio.unavailable",
        `GPIO line ${line} does not exist on ${chip.chip} "${chip.label}" (${chip.ngpio} lines)`,
      );
    }
    if (this.lines.has(line)) {
      throw new SiteError("gpio.unavailable", `GPIO line ${line} is already claimed by this driver`);
    }
    const number = sysfsNumber(chip.base, line);
    let gpio: OnoffGpioLike;
    try {
      // "high"/"low" rather than "out": the kernel sets direction and level in one write, so the
      // line never glitches to low before `initial` (which would press a modem's power key).
      gpio = new Gpio(number, initial === 1 ? "high" : "low");
    } catch (err) {
      throw new SiteError(
        "gpio.unavailable",
        `cannot export GPIO line ${line} as sysfs gpio${number} (${chip.label} base ${chip.base}): ${errnoHint(err)}`,
        { cause: err, detail: { line, sysfs: number } },
      );
    }
    const handle = new OnoffGpioLine(line, number, gpio, () => this.lines.delete(line));
    this.lines.set(line, handle);
    return handle;
  }

  async close(): Promise<void> {
    await Promise.all([...this.lines.values()].map((l) => l.close()));
  }

  private ready(): Promise<{ Gpio: OnoffGpioClass; chip: GpioChipInfo }> {
    if (!this.started) {
      const attempt = this.load();
      this.started = attempt;
      // A failed start may be retried later (e.g. once udev has fixed the permissions).
      attempt.catch(() => {
        if (this.started === attempt) this.started = undefined;
      });
    }
    return this.started;
  }

  private async load(): Promise<{ Gpio: OnoffGpioClass; chip: GpioChipInfo }> {
    let Gpio: OnoffGpioClass;
    try {
      ({ Gpio } = await (this.options.loadOnoff ?? importOnoff)());
    } catch (err) {
      throw new SiteError(
        "gpio.unavailable",
        "the onoff package (or its native epoll addon) cannot be loaded",
        {
          cause: err,
        },
      );
    }
    const chip = await findGpioChip(this.options.sysRoot ?? "/", { chipLabel: this.options.chipLabel });
    if (!Gpio.accessible) {
      throw new SiteError(
        "gpio.unavailable",
        "/sys/class/gpio/export cannot be opened for writing: run as a member of group gpio, or use gpio.driver sim",
      );
    }
    return { Gpio, chip };
  }
}

class OnoffGpioLine implements GpioLine {
  private closed = false;

  constructor(
    readonly line: number,
    private readonly sysfs: number,
    private readonly gpio: OnoffGpioLike,
    private readonly onClose: () => void,
  ) {}

  async write(value: GpioValue): Promise<void> {
    if (this.closed) throw new SiteError("gpio.write", `GPIO line ${this.line} is closed`);
    try {
      this.gpio.writeSync(value);
    } catch (err) {
      throw new SiteError("gpio.write", `cannot write GPIO line ${this.line} (sysfs gpio${this.sysfs})`, {
        cause: err,
      });
    }
  }

  async read(): Promise<GpioValue> {
    if (this.closed) throw new SiteError("gpio.unavailable", `GPIO line ${this.line} is closed`);
    try {
      return this.gpio.readSync();
    } catch (err) {
      throw new SiteError(
        "gpio.unavailable",
        `cannot read GPIO line ${this.line} (sysfs gpio${this.sysfs})`,
        {
          cause: err,
        },
      );
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    try {
      this.gpio.unexport();
    } catch {
      // onoff already swallows unexport errors; closing the value fd cannot usefully fail here.
    }
  }
}

/** A short reason for the errno values sysfs export is known to return. */
function errnoHint(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "EBUSY") return "EBUSY, the line is held by a kernel driver or another process";
  if (code === "EINVAL") return "EINVAL, no such GPIO number (wrong base?)";
  if (code === "EACCES" || code === "EPERM") return `${code}, permission denied`;
  return err instanceof Error ? err.message : String(err);
}

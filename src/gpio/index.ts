/**
 * GPIO: the driver factory and the public names of the module. See gpio.ts for the interfaces
 * and docs/gpio.md for the drivers, the sysfs numbering and the sim file format.
 */
import { SiteError } from "../core/errors.js";
import type { GpioDriver } from "./gpio.js";
import { OnoffGpioDriver, type OnoffLoader } from "./onoffGpio.js";
import { SimGpioDriver } from "./simGpio.js";

export type { GpioDriver, GpioLine, GpioValue } from "./gpio.js";
export { parseGpioValue } from "./gpio.js";
export { OnoffGpioDriver } from "./onoffGpio.js";
export { SimGpioDriver, simLinePath, watchSimLine, writeSimLine } from "./simGpio.js";
export { findGpioBase, findGpioChip, MAIN_GPIO_LABELS, selectGpioChip, sysfsNumber } from "./sysfsBase.js";

/** The `gpio` section of the site config (snake_case keys, as in the config file). */
export interface GpioConfig {
  /** `onoff` on a real board, `sim` for the simulator and tests. */
  driver: "onoff" | "sim";
  /** Folder of the `sim` driver's line files (ignored by `onoff`). */
  sim_dir: string;
  /** Label of the GPIO chip to use instead of auto-detection (`onoff` only), e.g. `pinctrl-rp1`. */
  chip_label?: string;
}

/** Injected dependencies of {@link createGpioDriver}, for tests. */
export interface GpioFactoryOptions {
  /** Root for the sysfs base detection; default `/`. */
  sysRoot?: string;
  /** Replaces `import("onoff")`. */
  loadOnoff?: OnoffLoader;
}

/** A driver plus its `start()`, which does the I/O (constructors only assign). */
export type StartableGpioDriver = GpioDriver & { start(): Promise<void> };

/**
 * Builds the configured driver without touching hardware; call `start()` to load onoff and find the
 * GPIO base early (otherwise the first `output()` does it). Throws `config.invalid` on an unknown driver.
 */
export function createGpioDriver(config: GpioConfig, opts: GpioFactoryOptions = {}): StartableGpioDriver {
  switch (config.driver) {
    case "sim":
      return new SimGpioDriver({ simDir: config.sim_dir });
    case "onoff":
      return new OnoffGpioDriver({
        sysRoot: opts.sysRoot,
        chipLabel: config.chip_label,
        loadOnoff: opts.loadOnoff,
      });
    default:
      throw new SiteError(
        "config.invalid",
        `unknown gpio.driver ${JSON.stringify((config as { driver: unknown }).driver)}`,
      );
  }
}

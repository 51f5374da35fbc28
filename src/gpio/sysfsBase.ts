/**
 * Where the SoC's GPIO lines start in the sysfs number space.
 *
 * The legacy sysfs interface (/sys/class/gpio/export, used by onoff) takes a global number,
 * `base + line`, and the base of the Raspberry Pi's main controller moved over the years. What
 * the kernels actually report (`/sys/class/gpio/gpiochip<base>/{label,base,ngpio}`, or the
 * `gpiochipN: GPIOs a-b, ..., <label>` lines of /sys/kernel/debug/gpio):
 *
 * | board | kernel        | main controller (label, base, ngpio) | others                              |
 * |-------|---------------|--------------------------------------|-------------------------------------|
 * | Pi 3  | ≤ 6.1         | pinctrl-bcm2835, 0, 54               | raspberrypi-exp-gpio 504-511        |
 * | Pi 3  | 6.6+ (6.12)   | pinctrl-bcm2835, 512, 54             | raspberrypi-exp-gpio                |
 * | Pi 4  | 5.x (early)   | pinctrl-bcm2835, 0, 54 (fe200000)    | raspberrypi-exp-gpio 504-511        |
 * | Pi 4  | 5.10 – 6.1    | pinctrl-bcm2711, 0, 58               | raspberrypi-exp-gpio 504-511        |
 * | Pi 4  | 6.6+          | pinctrl-bcm2711, 512, 58             | raspberrypi-exp-gpio 570-577        |
 * | Pi 5  | 6.1 (launch)  | pinctrl-rp1, 399, 54                 | gpio-brcmstb@… chips below it       |
 * | Pi 5  | 6.6+          | pinctrl-rp1, 571, 54                 | gpio-brcmstb@107d508500 512-543,    |
 * |       |               |                                      | …@107d508520 544-547, …@107d517c00  |
 * |       |               |                                      | 548-564, …@107d517c20 565-570       |
 *
 * Evidence (reports from real boards):
 * - Pi 4, 6.6: "gpiochip0: GPIOs 512-569, parent: platform/fe200000.gpio, pinctrl-bcm2711" and
 *   "gpiochip1: GPIOs 570-577, ... raspberrypi-exp-gpio" — talkkonnect/talkkonnect#129,
 *   fivdi/onoff#200 (Bookworm users: "add 512").
 * - Pi 5, 6.6: "gpiochip4: GPIOs 571-624, parent: platform/1f000d0000.gpio, pinctrl-rp1" with the
 *   four gpio-brcmstb chips at 512-570 — raspberrypi/linux#6037 and fivdi/onoff#199 ("add 571").
 * - Pi 5, 6.1: RP1 registered as gpiochip399 — raspberrypi/linux#5638 (the brcmstb dynamic-base
 *   change) and WiringPi/WiringPi#371 ("with Kernel 6.1 it worked with an offset of 399").
 * - Pi 3, 6.12: "sysfs: gpiochip512 base=512 ngpio=54 pinctrl-bcm2835" (a bench report on a
 *   Pi 3 running 6.12.25+rpt-rpi-v7); Pi 3/4 on older kernels: "gpiochip0: GPIOs 0-53, ...
 *   pinctrl-bcm2835" and "gpiochip1: GPIOs 504-511, ... raspberrypi-exp-gpio".
 * - The move is deliberate: gpiolib now warns about fixed bases, and Raspberry Pi stopped pinning the
 *   main controller at 0 ("When we launch 6.6 the older Pis will have the same, high-numbered
 *   GPIOs" — pelwell, quoted in fivdi/onoff#204; raspberrypi/linux#5638). The observed numbers fit
 *   dynamic allocation: downwards from 512 on old kernels (the expander at 504-511), upwards from
 *   512 on new ones (main controller first, the expander right after it).
 * `raspberrypi-exp-gpio` is the firmware-driven expander (BT_ON, WL_ON, PWR_LED_OFF...), never the
 * 40-pin header; `gpio-brcmstb@…` on a Pi 5 are BCM2712 lines (boot SPI, WiFi SDIO, PMIC), also not
 * the header. Bases are therefore always read, never assumed.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { SiteError } from "../core/errors.js";

/**
 * Labels of the main (40-pin header) GPIO controller, most specific first: the Pi 5's RP1, the
 * Pi 4's BCM2711, then the BCM2835 driver's label used by Pi 1-3 (and Pi 4 on early 5.x kernels).
 */
export const MAIN_GPIO_LABELS: readonly string[] = ["pinctrl-rp1", "pinctrl-bcm2711", "pinctrl-bcm2835"];

/** One `/sys/class/gpio/gpiochip*` entry. */
export interface GpioChipInfo {
  /** Directory name, e.g. `gpiochip512`. */
  chip: string;
  /** Contents of `label`, trimmed. */
  label: string;
  /** Contents of `base`: the sysfs number of the chip's line 0. */
  base: number;
  /** Contents of `ngpio`: how many lines the chip has. */
  ngpio: number;
}

/** Options of {@link findGpioChip} / {@link selectGpioChip}. */
export interface FindGpioBaseOptions {
  /** Use the chip with exactly this label instead of {@link MAIN_GPIO_LABELS}. */
  chipLabel?: string;
}

/**
 * Reads every `<sysRoot>/sys/class/gpio/gpiochip*` entry that has a readable `label`, `base` and
 * `ngpio`. Entries that cannot be read are skipped. Rejects with `gpio.unavailable` when the
 * folder does not exist (kernel without CONFIG_GPIO_SYSFS, or not Linux).
 */
export async function readGpioChips(sysRoot = "/"): Promise<GpioChipInfo[]> {
  const dir = join(sysRoot, "sys", "class", "gpio");
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new SiteError(
      "gpio.unavailable",
      `${dir} is not readable: this kernel has no sysfs GPIO interface (CONFIG_GPIO_SYSFS)`,
      { cause: err },
    );
  }
  const chips: GpioChipInfo[] = [];
  for (const chip of names.filter((n) => /^gpiochip\d+$/.test(n)).sort()) {
    try {
      const [label, base, ngpio] = await Promise.all(
        ["label", "base", "ngpio"].map((f) => readFile(join(dir, chip, f), "utf8")),
      );
      const info = { chip, label: label!.trim(), base: Number(base!.trim()), ngpio: Number(ngpio!.trim()) };
      if (Number.isInteger(info.base) && Number.isInteger(info.ngpio)) chips.push(info);
    } catch {
      // Not a complete chip entry: ignore it.
    }
  }
  return chips;
}

/**
 * Picks the main GPIO controller among `chips` (pure). With `chipLabel`, only that label matches;
 * otherwise the first of {@link MAIN_GPIO_LABELS} present wins. Throws `gpio.unavailable` naming
 * the chips found when nothing matches, or when one label is carried by chips with different bases.
 */
export function selectGpioChip(
  chips: readonly GpioChipInfo[],
  options: FindGpioBaseOptions = {},
): GpioChipInfo {
  const wanted = options.chipLabel !== undefined ? [options.chipLabel] : MAIN_GPIO_LABELS;
  for (const label of wanted) {
    const matches = chips.filter((c) => c.label === label);
    const bases = new Set(matches.map((c) => c.base));
    if (bases.size > 1) {
      throw new SiteError(
        "gpio.unavailable",
        `several GPIO chips are labelled ${label} (${describeChips(matches)}); set gpio.chip_label to pick one`,
        { detail: { chips: matches } },
      );
    }
    if (matches[0]) return matches[0];
  }
  const found = chips.length === 0 ? "no GPIO chips" : `only ${describeChips(chips)}`;
  throw new SiteError(
    "gpio.unavailable",
    `no GPIO chip labelled ${wanted.join(" or ")} in /sys/class/gpio: found ${found}`,
    { detail: { chips: [...chips], wanted: [...wanted] } },
  );
}

/**
 * Finds the SoC's main GPIO controller under `<sysRoot>/sys/class/gpio` (see the table in this
 * file's header). `sysRoot` defaults to `/`; tests pass a fake tree. Rejects with `gpio.unavailable`.
 */
export async function findGpioChip(sysRoot = "/", options: FindGpioBaseOptions = {}): Promise<GpioChipInfo> {
  return selectGpioChip(await readGpioChips(sysRoot), options);
}

/** The sysfs number of the main controller's line 0 (0, 512, 571...). See {@link findGpioChip}. */
export async function findGpioBase(sysRoot = "/", options: FindGpioBaseOptions = {}): Promise<number> {
  return (await findGpioChip(sysRoot, options)).base;
}

/** The sysfs (global) number of SoC line `line`: `base + line`, e.g. 512 + 17 = 529 on a Pi 4 with 6.6. */
export function sysfsNumber(base: number, line: number): number {
  return base + line;
}

function describeChips(chips: readonly GpioChipInfo[]): string {
  return chips.map((c) => `${c.chip} "${c.label}" base ${c.base} ngpio ${c.ngpio}`).join(", ");
}

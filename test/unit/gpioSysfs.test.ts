import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { isSiteError } from "../../src/core/errors.js";
import {
  findGpioBase,
  findGpioChip,
  type GpioChipInfo,
  readGpioChips,
  selectGpioChip,
  sysfsNumber,
} from "../../src/gpio/sysfsBase.js";

type Chip = [dir: string, label: string, base: number, ngpio: number];

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A fake `/sys/class/gpio` tree as the kernel lays it out (values end with a newline). */
function fakeSysfs(chips: Chip[]): string {
  const root = mkdtempSync(join(tmpdir(), "bts-sysfs-"));
  roots.push(root);
  const dir = join(root, "sys", "class", "gpio");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "export"), "");
  writeFileSync(join(dir, "unexport"), "");
  for (const [name, label, base, ngpio] of chips) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, "label"), `${label}\n`);
    writeFileSync(join(dir, name, "base"), `${base}\n`);
    writeFileSync(join(dir, name, "ngpio"), `${ngpio}\n`);
  }
  return root;
}

// Layouts reported from real boards; sources in src/gpio/sysfsBase.ts.
const BOARDS: { name: string; chips: Chip[]; base: number; gpio17: number }[] = [
  {
    name: "Pi 3 on a 5.15 kernel",
    chips: [
      ["gpiochip0", "pinctrl-bcm2835", 0, 54],
      ["gpiochip504", "raspberrypi-exp-gpio", 504, 8],
    ],
    base: 0,
    gpio17: 17,
  },
  {
    name: "Pi 3 on a 6.12 kernel",
    chips: [
      ["gpiochip512", "pinctrl-bcm2835", 512, 54],
      ["gpiochip566", "raspberrypi-exp-gpio", 566, 8], // expander base inferred (next free after 512+54)
    ],
    base: 512,
    gpio17: 529,
  },
  {
    name: "Pi 4 on a 6.1 kernel",
    chips: [
      ["gpiochip0", "pinctrl-bcm2711", 0, 58],
      ["gpiochip504", "raspberrypi-exp-gpio", 504, 8],
    ],
    base: 0,
    gpio17: 17,
  },
  {
    name: "Pi 4 on a 6.6 kernel",
    chips: [
      ["gpiochip512", "pinctrl-bcm2711", 512, 58],
      ["gpiochip570", "raspberrypi-exp-gpio", 570, 8],
    ],
    base: 512,
    gpio17: 529,
  },
  {
    name: "Pi 5 on a 6.6 kernel",
    chips: [
      ["gpiochip512", "gpio-brcmstb@107d508500", 512, 32],
      ["gpiochip544", "gpio-brcmstb@107d508520", 544, 4],
      ["gpiochip548", "gpio-brcmstb@107d517c00", 548, 17],
      ["gpiochip565", "gpio-brcmstb@107d517c20", 565, 6],
      ["gpiochip571", "pinctrl-rp1", 571, 54],
    ],
    base: 571,
    gpio17: 588,
  },
  {
    name: "Pi 5 on its 6.1 launch kernel",
    chips: [
      ["gpiochip399", "pinctrl-rp1", 399, 54],
      ["gpiochip453", "gpio-brcmstb@107d517c00", 453, 17],
    ],
    base: 399,
    gpio17: 416,
  },
];

describe("findGpioBase", () => {
  for (const board of BOARDS) {
    test(`finds base ${board.base} on a ${board.name}, so GPIO17 is sysfs ${board.gpio17}`, async () => {
      const root = fakeSysfs(board.chips);
      const base = await findGpioBase(root);
      assert.equal(base, board.base);
      assert.equal(sysfsNumber(base, 17), board.gpio17);
    });
  }

  test("never picks the firmware GPIO expander, even when it is listed first", async () => {
    const root = fakeSysfs([
      ["gpiochip504", "raspberrypi-exp-gpio", 504, 8],
      ["gpiochip0", "pinctrl-bcm2835", 0, 54],
    ]);
    const chip = await findGpioChip(root);
    assert.equal(chip.label, "pinctrl-bcm2835");
    assert.equal(chip.ngpio, 54);
  });

  test("uses the configured chip label instead of the known ones", async () => {
    const root = fakeSysfs([
      ["gpiochip0", "pinctrl-bcm2835", 0, 54],
      ["gpiochip496", "pca953x", 496, 8],
    ]);
    assert.equal(await findGpioBase(root, { chipLabel: "pca953x" }), 496);
  });

  test("explains which chips it found when none is a known main controller", async () => {
    const root = fakeSysfs([["gpiochip0", "gpio-mockup", 0, 8]]);
    await assert.rejects(findGpioBase(root), (err: unknown) => {
      assert.ok(isSiteError(err, "gpio.unavailable"));
      assert.match(err.message, /pinctrl-rp1 or pinctrl-bcm2711 or pinctrl-bcm2835/);
      assert.match(err.message, /gpiochip0 "gpio-mockup" base 0 ngpio 8/);
      return true;
    });
  });

  test("says the configured label was not found", async () => {
    const root = fakeSysfs([["gpiochip0", "pinctrl-bcm2835", 0, 54]]);
    await assert.rejects(
      findGpioBase(root, { chipLabel: "pinctrl-rp1" }),
      /no GPIO chip labelled pinctrl-rp1/,
    );
  });

  test("fails with gpio.unavailable when the kernel has no sysfs GPIO folder", async () => {
    const root = mkdtempSync(join(tmpdir(), "bts-sysfs-"));
    roots.push(root);
    await assert.rejects(findGpioBase(root), (err: unknown) => isSiteError(err, "gpio.unavailable"));
  });

  test("says so when the folder exists but holds no chips", async () => {
    await assert.rejects(findGpioBase(fakeSysfs([])), /found no GPIO chips/);
  });

  test("skips chip folders with missing or unreadable attributes", async () => {
    const root = fakeSysfs([["gpiochip512", "pinctrl-bcm2711", 512, 58]]);
    mkdirSync(join(root, "sys", "class", "gpio", "gpiochip600"));
    mkdirSync(join(root, "sys", "class", "gpio", "gpio529"));
    const chips = await readGpioChips(root);
    assert.deepEqual(
      chips.map((c) => c.chip),
      ["gpiochip512"],
    );
  });
});

describe("selectGpioChip", () => {
  const chip = (label: string, base: number): GpioChipInfo => ({
    chip: `gpiochip${base}`,
    label,
    base,
    ngpio: 54,
  });

  test("prefers RP1 over the BCM labels when several are present", () => {
    const picked = selectGpioChip([chip("pinctrl-bcm2835", 0), chip("pinctrl-rp1", 571)]);
    assert.equal(picked.base, 571);
  });

  test("accepts the same chip listed twice with one base", () => {
    assert.equal(selectGpioChip([chip("pinctrl-bcm2711", 512), chip("pinctrl-bcm2711", 512)]).base, 512);
  });

  test("refuses a label carried by chips with different bases", () => {
    assert.throws(
      () => selectGpioChip([chip("pinctrl-bcm2835", 0), chip("pinctrl-bcm2835", 512)]),
      /several GPIO chips are labelled pinctrl-bcm2835/,
    );
  });
});

describe("sysfsNumber", () => {
  test("adds the line to the base", () => {
    for (const [base, line, expected] of [
      [0, 17, 17],
      [512, 17, 529],
      [571, 17, 588],
      [571, 0, 571],
      [512, 27, 539],
    ] as const) {
      assert.equal(sysfsNumber(base, line), expected);
    }
  });
});

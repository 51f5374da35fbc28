/**
 * The site's LEDs: the status LED (`leds.status`), the uplink LED (`leds.uplink`) and one per modem
 * (`modems[].led_gpio`), each set from the site's state once a second and at every modem state change
 * (patterns: src/leds/patterns.ts). A line that cannot be claimed is logged and left out.
 */

import { errorText } from "../core/errors.js";
import type { EventBus, ModemStateName } from "../core/events.js";
import type { Logger } from "../core/logger.js";
import type { GpioDriver } from "../gpio/gpio.js";
import { LedBlinker } from "./blinker.js";
import {
  modemPattern,
  type StatusInput,
  statusPattern,
  type UplinkInput,
  uplinkPattern,
} from "./patterns.js";

export interface LedControllerDeps {
  gpio: GpioDriver;
  /** GPIO lines; undefined: that LED is not fitted. */
  status?: number;
  uplink?: number;
  /** Modem id → its LED's line. */
  modemLeds: { id: string; line: number }[];
  statusInput(): StatusInput;
  uplinkInput(): UplinkInput;
  modemStates(): { id: string; state: ModemStateName }[];
  bus: EventBus;
  logger: Logger;
}

/** How often the patterns are recomputed besides modem state changes, ms. */
const REFRESH_MS = 1000;

export class LedController {
  private readonly blinker: LedBlinker;
  private timer: NodeJS.Timeout | undefined;
  private off: (() => void) | undefined;
  private readonly modemLed = new Map<string, string>();

  constructor(private readonly d: LedControllerDeps) {
    this.blinker = new LedBlinker(d.logger);
  }

  /** True when at least one LED line could be claimed. */
  get fitted(): boolean {
    return this.blinker.names.length > 0;
  }

  async start(): Promise<void> {
    const claim = async (name: string, line: number | undefined) => {
      if (line === undefined) return;
      try {
        this.blinker.add(name, await this.d.gpio.output(line, 0));
      } catch (err) {
        this.d.logger.warn(`LED ${name} (GPIO ${line}) unavailable`, { error: errorText(err) });
      }
    };
    await claim("status", this.d.status);
    await claim("uplink", this.d.uplink);
    for (const m of this.d.modemLeds) {
      await claim(`modem:${m.id}`, m.line);
      this.modemLed.set(m.id, `modem:${m.id}`);
    }
    if (!this.fitted) return;
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
    this.timer.unref();
    this.off = this.d.bus.on("modem_state", () => this.refresh());
  }

  refresh(): void {
    try {
      this.blinker.set("status", statusPattern(this.d.statusInput()));
      this.blinker.set("uplink", uplinkPattern(this.d.uplinkInput()));
      for (const m of this.d.modemStates()) {
        const name = this.modemLed.get(m.id);
        if (name) this.blinker.set(name, modemPattern(m.state));
      }
    } catch (err) {
      this.d.logger.warn("LEDs not updated", { error: errorText(err) });
    }
  }

  /** `leds/identify`: every LED in turn, `seconds` long. */
  identify(seconds: number): void {
    this.blinker.identify(seconds);
  }

  /** The pattern each LED shows now (for the page and `state`). */
  patterns(): Record<string, string> {
    return Object.fromEntries(this.blinker.names.map((n) => [n, this.blinker.pattern(n) ?? "off"]));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.off?.();
    await this.blinker.stop();
  }
}

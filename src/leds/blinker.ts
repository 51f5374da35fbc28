/**
 * Drives LED lines with patterns (src/leds/patterns.ts) through the GPIO seam.
 *
 *   one clock of 125 ms ticks, running only while some LED blinks or an identify runs
 *     slow (1 Hz): 4 ticks on, 4 off       fast (4 Hz): 1 tick on, 1 off
 *   a line is written only when its level changes
 *
 * `identify(seconds)`: every LED in turn blinks fast for 1 s while the others are dark, round and
 * round, so staff can find the board (and see each LED work); then the patterns come back.
 */
import { errorText } from "../core/errors.js";
import type { Logger } from "../core/logger.js";
import type { GpioLine, GpioValue } from "../gpio/gpio.js";
import type { LedPattern } from "./patterns.js";

export const TICK_MS = 125;
/** Ticks each LED blinks during identify. */
const IDENTIFY_TICKS_PER_LED = 8;

interface Led {
  name: string;
  line: GpioLine;
  pattern: LedPattern;
  level: GpioValue | undefined;
}

export function levelAt(pattern: LedPattern, tick: number): GpioValue {
  switch (pattern) {
    case "on":
      return 1;
    case "off":
      return 0;
    case "slow":
      return Math.floor(tick / 4) % 2 === 0 ? 1 : 0;
    case "fast":
      return tick % 2 === 0 ? 1 : 0;
  }
}

export class LedBlinker {
  private readonly leds: Led[] = [];
  private timer: NodeJS.Timeout | undefined;
  private tick = 0;
  private identifyUntil = 0;
  private writing = false;
  private again = false;
  private stopped = false;

  constructor(private readonly log: Logger) {}

  add(name: string, line: GpioLine): void {
    this.leds.push({ name, line, pattern: "off", level: undefined });
  }

  get names(): string[] {
    return this.leds.map((l) => l.name);
  }

  pattern(name: string): LedPattern | undefined {
    return this.leds.find((l) => l.name === name)?.pattern;
  }

  /** Sets an LED's pattern; the line follows at once (steady) or at the next tick (blinking). */
  set(name: string, pattern: LedPattern): void {
    const led = this.leds.find((l) => l.name === name);
    if (!led || led.pattern === pattern) return;
    led.pattern = pattern;
    this.schedule();
    if (!this.identifying) void this.apply();
  }

  identify(seconds: number): void {
    this.identifyUntil = Date.now() + seconds * 1000;
    this.tick = 0;
    this.schedule();
  }

  private get identifying(): boolean {
    return Date.now() < this.identifyUntil;
  }

  private get blinking(): boolean {
    return this.identifying || this.leds.some((l) => l.pattern === "slow" || l.pattern === "fast");
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.blinking && this.timer === undefined) {
      this.timer = setInterval(() => {
        this.tick++;
        void this.apply();
        if (!this.blinking) {
          clearInterval(this.timer);
          this.timer = undefined;
        }
      }, TICK_MS);
    }
  }

  private async apply(): Promise<void> {
    if (this.stopped) return;
    if (this.writing) {
      // A change while lines are being written: applied once they are.
      this.again = true;
      return;
    }
    this.writing = true;
    try {
      const identifying = this.identifying;
      const turn = Math.floor(this.tick / IDENTIFY_TICKS_PER_LED) % Math.max(1, this.leds.length);
      for (const [i, led] of this.leds.entries()) {
        const level = identifying
          ? i === turn
            ? levelAt("fast", this.tick)
            : 0
          : levelAt(led.pattern, this.tick);
        if (level === led.level) continue;
        try {
          await led.line.write(level);
          led.level = level;
        } catch (err) {
          this.log.debug("LED not set", { led: led.name, error: errorText(err) });
        }
      }
    } finally {
      this.writing = false;
    }
    if (this.again) {
      this.again = false;
      await this.apply();
    }
  }

  /** Stops the clock and turns every LED off. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    for (const led of this.leds) await led.line.write(0).catch(() => {});
  }
}

/**
 * Wake-ups for the slot's loop: `Waker.any([a, b], ms)` resolves at the next `wake()` of any of the
 * wakers, or after `ms`; whichever way it ends, it leaves no listener or timer behind (a slot may wait
 * like this every 30 s for years).
 */
export class Waker {
  private readonly waiters = new Set<() => void>();

  wake(): void {
    const w = [...this.waiters];
    this.waiters.clear();
    for (const f of w) f();
  }

  static any(wakers: readonly Waker[], ms?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        for (const w of wakers) w.waiters.delete(done);
        resolve();
      };
      for (const w of wakers) w.waiters.add(done);
      if (ms !== undefined) timer = setTimeout(done, ms);
    });
  }

  /** Until the next `wake()`. */
  wait(): Promise<void> {
    return Waker.any([this]);
  }

  /** `ms`, or less if woken; `uninterruptible` ignores wakes (a power-off hold lasts its full time). */
  sleep(ms: number, uninterruptible = false): Promise<void> {
    if (uninterruptible) return new Promise((resolve) => setTimeout(resolve, ms));
    return Waker.any([this], ms);
  }

  /** Listeners waiting now (for tests). */
  get pending(): number {
    return this.waiters.size;
  }
}

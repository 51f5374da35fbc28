/**
 * A sleep that can be cut short: `sleep(ms)` resolves after `ms` or at the next `wake()`, whichever
 * comes first; `wait()` until the next `wake()`. `sleep(ms, true)` ignores wakes (a power-off hold must
 * last its full time). A sleep that ends by its timer leaves nothing behind.
 */
export class Waker {
  private readonly waiters = new Set<() => void>();

  wake(): void {
    const w = [...this.waiters];
    this.waiters.clear();
    for (const f of w) f();
  }

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  sleep(ms: number, uninterruptible = false): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      if (!uninterruptible) this.waiters.add(done);
    });
  }
}

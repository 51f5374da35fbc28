/**
 * Timers of a simulated device, all scaled by the simulator's `timeScale` and cancellable at once
 * (power off, reset, stop).
 */
export class ScaledTimers {
  private readonly handles = new Set<NodeJS.Timeout>();

  /** `scale` multiplies every delay (0.02 in fast tests, 1 for real time). */
  constructor(private readonly scale: number) {}

  /** The real delay in milliseconds for a nominal one. */
  ms(nominal: number): number {
    return Math.max(0, Math.round(nominal * this.scale));
  }

  /** Runs `fn` once after `nominalMs` × scale. Returns a cancel function. */
  after(nominalMs: number, fn: () => void): () => void {
    const h = setTimeout(() => {
      this.handles.delete(h);
      fn();
    }, this.ms(nominalMs));
    this.handles.add(h);
    return () => {
      clearTimeout(h);
      this.handles.delete(h);
    };
  }

  /** Runs `fn` every `nominalMs` × scale (at least 1 ms). Returns a cancel function. */
  every(nominalMs: number, fn: () => void): () => void {
    const h = setInterval(fn, Math.max(1, this.ms(nominalMs)));
    this.handles.add(h);
    return () => {
      clearInterval(h);
      this.handles.delete(h);
    };
  }

  /** Cancels everything scheduled so far. */
  clearAll(): void {
    for (const h of this.handles) clearTimeout(h);
    this.handles.clear();
  }
}

import { errorText } from "../core/errors.js";

/** Stops `stop` on the first SIGTERM/SIGINT, bounded to 10 s (contract, section 1). */
export function onSignals(stop: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = (sig: string) => {
      if (stopping) return;
      stopping = true;
      const force = setTimeout(() => {
        process.stderr.write(`bts-site: did not stop within 10 s of ${sig}; exiting\n`);
        resolve(1);
      }, 10_000);
      force.unref();
      stop().then(
        () => resolve(0),
        (err) => {
          process.stderr.write(`bts-site: stop failed: ${errorText(err)}\n`);
          resolve(1);
        },
      );
    };
    // `on`, not `once`: a second signal while stopping must not kill the process half-way.
    process.on("SIGTERM", () => handler("SIGTERM"));
    process.on("SIGINT", () => handler("SIGINT"));
  });
}

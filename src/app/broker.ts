/**
 * The demo's embedded MQTT broker: aedes (MQTT 3.1.1 only) on 127.0.0.1, port 1883 when free, else
 * one the kernel picks. Loaded on demand: only `bts-site demo` uses it; a real site talks to the
 * NOC's broker.
 */
import { createServer, type Server } from "node:net";

export interface EmbeddedBroker {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startEmbeddedBroker(preferredPort = 1883): Promise<EmbeddedBroker> {
  const { Aedes } = await import("aedes");
  const aedes = await Aedes.createBroker();
  const server: Server = createServer(aedes.handle);
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  let port: number;
  try {
    port = await listen(preferredPort);
  } catch {
    port = await listen(0);
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        aedes.close(() => server.close(() => resolve()));
      }),
  };
}

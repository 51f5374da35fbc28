/**
 * The parts of the `sip` package (0.0.6, untyped CommonJS) that `src/sip/stack*.ts` use. Messages are
 * in the package's own form: strings with one char per byte ("binary"), see `stackWire.ts`.
 */
declare module "sip" {
  export interface SipWireMessage {
    method?: string;
    uri?: unknown;
    status?: number;
    reason?: string;
    version?: string;
    headers: Record<string, unknown>;
    content?: string;
  }

  export interface SipWireAddress {
    protocol: string;
    address: string;
    port: number;
  }

  export interface SipWireFlow extends SipWireAddress {
    local: { address: string; port: number };
  }

  export interface SipWireUri {
    schema: string;
    user?: string;
    password?: string;
    host: string;
    port: number;
    params: Record<string, string | null>;
    headers: Record<string, string>;
  }

  export interface SipCoreOptions {
    address?: string;
    port?: number;
    publicAddress?: string;
    udp?: boolean;
    tcp?: boolean;
    rport?: boolean;
    maxBytesHeaders?: number;
    maxContentLength?: number;
    logger?: {
      send?(m: SipWireMessage, target: SipWireAddress): void;
      recv?(m: SipWireMessage, remote: SipWireAddress): void;
      error?(e: unknown): void;
    };
  }

  /** What `sip.create()` returns: one independent stack (its own sockets and transactions). */
  export interface SipCore {
    send(m: SipWireMessage, callback?: (rs: SipWireMessage) => void): void;
    destroy(): void;
    hostname(): string;
    encodeFlowUri(flow: SipWireFlow): {
      schema: string;
      user: string;
      host: string;
      params: Record<string, never>;
    };
  }

  const sip: {
    create(
      options: SipCoreOptions,
      onRequest: (
        m: SipWireMessage,
        remote: SipWireAddress & { local?: { address: string; port: number } },
      ) => void,
    ): SipCore;
    /** The message parser of the UDP transport (`parseMessage`): a Buffer or a binary string. */
    parse(data: Buffer | string): SipWireMessage | undefined;
    stringify(m: SipWireMessage): string;
    parseUri(s: string | object): SipWireUri | undefined;
    stringifyUri(u: string | object): string;
    resolve(uri: object, action: (addresses: SipWireAddress[]) => void): void;
  };
  export default sip;
}

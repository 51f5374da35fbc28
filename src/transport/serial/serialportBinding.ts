import { SerialPort } from "serialport";
import { SiteError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import type { SerialConnection, SerialOpener, SerialOpenOptions } from "./serialTransport.js";

/**
 * The production serial link through the `serialport` package (its C++ binding does the termios work).
 *
 * The port is opened with an exclusive lock (TIOCEXCL) so that no other program (ModemManager, a
 * stray `screen`) talks to the modem at the same time. DTR and RTS are then raised; a pseudo-terminal has
 * no modem-control lines and some USB adapters refuse them too (ioctl fails with ENOTTY or EINVAL):
 * that is logged at debug and ignored.
 */
export function serialportOpener(logger: Logger): SerialOpener {
  return async (options: SerialOpenOptions) => {
    // AT traffic is a few hundred bytes at a time: a 4 KiB read buffer, not the default 64 KiB.
    const port = new SerialPort({
      path: options.path,
      baudRate: options.baudRate,
      autoOpen: false,
      highWaterMark: 4096,
      lock: true,
    });
    await new Promise<void>((resolve, reject) => {
      port.open((err) => {
        if (err)
          reject(new SiteError("serial.open", `cannot open ${options.path}: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
    await new Promise<void>((resolve) => {
      port.set({ dtr: true, rts: true }, (err) => {
        if (err) logger.debug(`modem-control lines not available on ${options.path}: ${err.message}`);
        resolve();
      });
    });
    return new SerialportConnection(options.path, port);
  };
}

class SerialportConnection implements SerialConnection {
  private closed = false;
  private readonly closeListeners: ((info: { disconnected: boolean; error?: Error }) => void)[] = [];

  constructor(
    readonly path: string,
    private readonly port: SerialPort,
  ) {
    port.on("close", (err?: Error & { disconnected?: boolean }) => {
      this.fireClose({ disconnected: err?.disconnected === true, ...(err ? { error: err } : {}) });
    });
    // Errors after open (EIO when the device vanishes) arrive here; 'close' follows.
    port.on("error", () => {});
  }

  get isOpen(): boolean {
    return !this.closed && this.port.isOpen;
  }

  write(data: Buffer | string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.isOpen) {
        reject(new SiteError("serial.write", `${this.path} is closed`));
        return;
      }
      this.port.write(data, (err) => {
        if (err)
          reject(
            new SiteError("serial.write", `write to ${this.path} failed: ${err.message}`, { cause: err }),
          );
        else resolve();
      });
    });
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.port.on("data", listener);
  }

  onClose(listener: (info: { disconnected: boolean; error?: Error }) => void): void {
    this.closeListeners.push(listener);
  }

  close(): Promise<void> {
    if (!this.port.isOpen) {
      this.fireClose({ disconnected: false });
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.port.close(() => {
        this.fireClose({ disconnected: false });
        resolve();
      });
    });
  }

  private fireClose(info: { disconnected: boolean; error?: Error }): void {
    if (this.closed) return;
    this.closed = true;
    for (const l of this.closeListeners) l(info);
  }
}

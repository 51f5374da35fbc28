/**
 * Bytes only: the serial link under the AT channel. The real port ({@link openSerialPort}) and any test
 * double implement {@link SerialConnection}; the layer above never knows which.
 */
export interface SerialConnection {
  readonly path: string;
  write(data: Buffer | string): Promise<void>;
  close(): Promise<void>;
  onData(listener: (chunk: Buffer) => void): void;
  /** Called once when the port goes away: closed by us, or the device vanished (`disconnected`). */
  onClose(listener: (info: { disconnected: boolean; error?: Error }) => void): void;
  readonly isOpen: boolean;
}

export interface SerialOpenOptions {
  path: string;
  /** Line speed in baud. A USB modem ignores it; a UART-attached one (SIM800 on GPIO pins) does not. */
  baudRate: number;
}

/** Opens a serial port; injected so tests and the simulator can stand in. */
export type SerialOpener = (options: SerialOpenOptions) => Promise<SerialConnection>;

/**
 * Reads small `/proc` and `/sys` files into one reused buffer.
 *
 * Why not `fs.promises.readFile`: procfs and sysfs files report a size of 0, so Node's readFile
 * cannot size its buffer and allocates a fresh 64 KiB chunk for every read
 * (`kReadFileUnknownBufferLength` in lib/internal/fs/promises.js). The sampler reads about ten
 * such files every few seconds on a small board; one buffer kept between samples avoids most of
 * that garbage. Only the decoded string is new on each read.
 *
 * Not safe for concurrent use: the caller reads one file at a time (the sampler does).
 */
import { open } from "node:fs/promises";

/** Starting size of the buffer, in bytes; it doubles when a file does not fit. */
const INITIAL_BYTES = 8 * 1024;
/** Files larger than this (bytes) are not read: nothing the sampler wants is that big. */
const MAX_BYTES = 1024 * 1024;

export class SmallFileReader {
  private buffer: Buffer | null = null;

  /**
   * The whole text of `path` (UTF-8), or `null` when it cannot be opened or read, or is larger
   * than 1 MiB. Never throws.
   */
  async read(path: string): Promise<string | null> {
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    try {
      handle = await open(path, "r");
      let buffer = this.buffer ?? Buffer.allocUnsafe(INITIAL_BYTES);
      let length = 0;
      for (;;) {
        if (length === buffer.length) {
          if (buffer.length >= MAX_BYTES) return null;
          const bigger = Buffer.allocUnsafe(buffer.length * 2);
          buffer.copy(bigger, 0, 0, length);
          buffer = bigger;
        }
        // position null: read on from the current offset, as procfs expects.
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
      }
      this.buffer = buffer;
      return buffer.toString("utf8", 0, length);
    } catch {
      return null;
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }
}

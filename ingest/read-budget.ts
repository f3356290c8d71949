import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Files larger than this go to a reader process through a temporary file, not inside
 * the IPC message: serializing 25 MB into a message blocks the event loop for up to
 * 200 ms (measured here), writing it to a file does not.
 */
const INLINE_BYTES = 1024 * 1024;

/** Where spilled files go: one folder, so a sweep at start can clear what a crash left. */
export const SPILL_DIRECTORY = path.join(tmpdir(), 'assistant-reader');

/**
 * One file's share of the reader processes: the time it may still use, the signal
 * that cancels its reading (a conversation that ended), and the temporary copy of
 * its bytes that reader processes read. {@link release} deletes that copy.
 */
export class ReadBudget {
  private spentMs = 0;
  private readonly spilled = new Map<Uint8Array, Promise<string>>();

  constructor(
    readonly timeoutMs: number,
    readonly signal: AbortSignal | undefined,
  ) {}

  get remainingMs(): number {
    return this.timeoutMs - this.spentMs;
  }

  spend(durationMs: number): void {
    this.spentMs += durationMs;
  }

  /** The path of a temporary copy of `bytes` when they are too large to send inline, else undefined. */
  async spill(bytes: Uint8Array): Promise<string | undefined> {
    if (bytes.length <= INLINE_BYTES) return undefined;
    let written = this.spilled.get(bytes);
    if (!written) {
      const file = path.join(SPILL_DIRECTORY, `${randomUUID()}.bin`);
      written = mkdir(SPILL_DIRECTORY, { recursive: true, mode: 0o700 })
        .then(() => writeFile(file, bytes, { mode: 0o600 }))
        .then(() => file);
      this.spilled.set(bytes, written);
    }
    return written;
  }

  /** Deletes the temporary copies. Call once the file is read (or refused). */
  async release(): Promise<void> {
    const files = await Promise.allSettled(this.spilled.values());
    this.spilled.clear();
    await Promise.all(
      files.map((file) => (file.status === 'fulfilled' ? rm(file.value, { force: true }) : undefined)),
    );
  }
}

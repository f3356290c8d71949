import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { compactErasedTables } from './erase-compaction.ts';

/**
 * Tables at most this large (heap, indexes and TOAST) are compacted at once after an
 * erasure on the embedded database; larger ones wait until no conversation is live.
 * Why: PGlite runs a statement on the app's only thread, so a `VACUUM FULL` stops every
 * conversation for as long as it takes. Measured (bench/erase.ts, 1536 dimensions): 2,000
 * chunks took 15 s (6 s of it rebuilding the HNSW index), 20,000 messages 0.1 s.
 */
export const IMMEDIATE_COMPACTION_BYTES = 4 * 2 ** 20;

/** Where the tables waiting for compaction are recorded, in the data folder. */
export function pendingCompactionFile(dataDir: string): string {
  return path.join(dataDir, 'erase-compaction-pending.json');
}

/** How often a waiting compaction checks whether the app became idle. */
const IDLE_CHECK_MS = 2_000;

/**
 * The part of an erasure's compaction that would stall live conversations, run later:
 * when `isIdle()` (no live conversation) says so, checked every {@link IDLE_CHECK_MS},
 * and at the latest at the next start ({@link runPending} before serving). The tables
 * waiting are written to `pendingFile` (table names only, nothing about the person), so
 * a process that stops or dies first leaves the work to the next one.
 */
export class DeferredCompaction {
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly pendingFile: string,
    private readonly isIdle: () => boolean,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Tables still waiting. */
  get waiting(): readonly string[] {
    return [...this.pending];
  }

  /** Adds tables to compact once idle; resolves when that is recorded on disk. */
  async defer(tables: readonly string[]): Promise<void> {
    if (tables.length === 0) return;
    for (const table of tables) this.pending.add(table);
    await this.save();
    this.timer ??= setInterval(() => void this.runIfIdle(), IDLE_CHECK_MS);
    this.timer.unref();
  }

  /** Compacts what an earlier process left waiting (call at start, before serving). */
  async runPending(): Promise<readonly string[]> {
    const saved = await readFile(this.pendingFile, 'utf8').catch(() => undefined);
    if (saved === undefined) return [];
    const tables = (JSON.parse(saved) as unknown[]).filter(
      (name): name is string => typeof name === 'string',
    );
    for (const table of tables) this.pending.add(table);
    await this.run();
    return tables.filter((table) => !this.pending.has(table));
  }

  /** Compacts now if idle; resolves when done (or at once when not idle). */
  async runIfIdle(): Promise<void> {
    if (this.running) return this.running;
    if (this.pending.size === 0 || !this.isIdle()) return;
    await this.run();
  }

  /** Stops checking (the file keeps what is still waiting for the next start). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private run(): Promise<void> {
    this.running ??= (async () => {
      const tables = [...this.pending];
      try {
        await compactErasedTables(this.pool, 'embedded', tables);
        for (const table of tables) this.pending.delete(table);
        await this.save();
        if (this.pending.size === 0) this.stop();
      } catch (error) {
        this.onError(error);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  private async save(): Promise<void> {
    if (this.pending.size === 0) {
      await rm(this.pendingFile, { force: true });
      return;
    }
    const temporary = `${this.pendingFile}.${process.pid}`;
    await writeFile(temporary, JSON.stringify([...this.pending]), { mode: 0o600 });
    await rename(temporary, this.pendingFile);
  }
}

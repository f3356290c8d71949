import { createRequire } from 'node:module';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import type * as Koffi from 'koffi';

/**
 * Gives memory that native code freed back to the operating system after conversations
 * end. Measured with the soak (bench/soak.ts --trim-probe): after 8 sessions for 2
 * minutes resident memory stayed 1.20x its baseline with the JS heap at 1.03x and the
 * embedded database's WebAssembly memory unchanged; glibc's `malloc_trim(0)` brought it
 * to 1.02x. So nothing was leaked: the allocator kept the pages that VAD, end-of-turn and
 * speech buffers (allocated on several threads, so in several arenas) had freed, and
 * only returns them when asked. This asks, through koffi, on Linux with glibc; elsewhere
 * (musl, macOS) it does nothing. Asking after the last conversation ended was not enough:
 * much of that memory is freed only when the garbage collector finalizes the objects
 * holding it, so full collections trigger a release as well.
 */

/** After the last conversation ended, wait this long (more may end together). */
const SETTLE_MS = 1_000;
/** Trimming walks every arena under its lock: not more often than this. */
const MINIMUM_INTERVAL_MS = 5_000;

let trim: ((pad: number) => number) | null | undefined;
let timer: NodeJS.Timeout | undefined;
let lastTrimAt = -Infinity;

function loadTrim(): ((pad: number) => number) | null {
  if (trim !== undefined) return trim;
  trim = null;
  if (process.platform !== 'linux') return trim;
  try {
    // A CommonJS native addon: loaded with require so its prebuilt binary resolves.
    const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi;
    trim = koffi.load('libc.so.6').func('int malloc_trim(size_t)') as (pad: number) => number;
  } catch {
    // Not glibc (no malloc_trim) or no prebuilt binary for this platform: nothing to do.
  }
  return trim;
}

let watchingCollections = false;

/**
 * Native memory held by JavaScript objects (audio frames, VAD and speech buffers) is
 * freed only once the garbage collector finalizes them, which may be well after the
 * conversation ended; so every full collection is followed by a release too.
 */
function releaseAfterFullCollections(): void {
  if (watchingCollections) return;
  watchingCollections = true;
  new PerformanceObserver((list) => {
    const full = list
      .getEntries()
      .some(
        (entry) =>
          (entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR,
      );
    if (full) releaseFreedMemorySoon();
  }).observe({ entryTypes: ['gc'] });
}

/**
 * Schedules one `malloc_trim(0)` shortly (a conversation just ended, or a full garbage
 * collection ran); calls close together share it, and from the first call on, every full
 * collection schedules one. Returns at once; the timer does not keep the process alive.
 */
export function releaseFreedMemorySoon(): void {
  if (timer || !loadTrim()) return;
  releaseAfterFullCollections();
  const wait = Math.max(SETTLE_MS, lastTrimAt + MINIMUM_INTERVAL_MS - performance.now());
  timer = setTimeout(() => {
    timer = undefined;
    lastTrimAt = performance.now();
    trim?.(0);
  }, wait);
  timer.unref();
}

/** Whether this process can release freed memory (Linux with glibc). */
export function canReleaseFreedMemory(): boolean {
  return loadTrim() !== null;
}

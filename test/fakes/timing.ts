/**
 * Small timing helpers shared by the fakes and their tests. Every duration is in
 * milliseconds; every timestamp comes from `performance.now()` so that fakes and
 * tests in one process compare times on the same monotonic clock.
 */

/** The clock every fake stamps its records with (`performance.now()`, milliseconds). */
export function now(): number {
  return performance.now();
}

/**
 * Resolves after `duration` milliseconds, or rejects with the signal's reason as soon
 * as `signal` aborts, so a fake that is closing never leaves a timer behind.
 */
export function sleep(duration: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  if (duration <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, duration);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Never resolves; rejects when `signal` aborts. This is how a fake "stalls". */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason as Error);
    else signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}

/**
 * Polls `predicate` every 5 ms until it returns a truthy value, and returns that value.
 * Fails with `message` after `timeout` milliseconds (default 5000) so a broken fake
 * shows up as a clear test failure rather than a hung test.
 */
export async function waitFor<T>(
  predicate: () => T | undefined | null | false,
  options: { timeout?: number; message?: string } = {},
): Promise<T> {
  const deadline = now() + (options.timeout ?? 5000);
  for (;;) {
    const value = predicate();
    if (value) return value;
    if (now() > deadline) throw new Error(options.message ?? 'waitFor: condition not met in time');
    await sleep(5);
  }
}

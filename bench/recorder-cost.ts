import { TranscriptRecorder } from '../agent/transcript-recorder.ts';
import { TurnRecorder } from '../agent/turn-recorder.ts';

/**
 * What the turn recorder costs a turn, measured directly rather than as the difference
 * of two noisy voice-to-voice medians: every call into the recorder (its methods, the
 * session events it listens to, the transcript recorder's hand-off of a finished turn)
 * is timed on the main thread and stamped, so that the time spent between a turn's last
 * voiced frame and its first audio out can be summed. Nested calls count once. The
 * turn rows it writes are timed apart ({@link instrumentRecorderQueries}): from the query
 * call to its result, which on the embedded database (in this thread) bounds their cost.
 */
export interface RecorderCall {
  /** Date.now() when the call started. */
  at: number;
  ms: number;
}

export const recorderCalls: RecorderCall[] = [];
export const recorderQueries: RecorderCall[] = [];
let depth = 0;

function timed<T>(run: () => T): T {
  const at = Date.now();
  const started = performance.now();
  depth++;
  try {
    return run();
  } finally {
    depth--;
    if (depth === 0) recorderCalls.push({ at, ms: performance.now() - started });
  }
}

function wrapMethods(prototype: object, names: string[]): void {
  const target = prototype as Record<string, unknown>;
  for (const name of names) {
    const original = target[name];
    if (typeof original !== 'function') throw new Error(`recorder-cost: no method ${name} to time`);
    target[name] = function (this: unknown, ...parameters: unknown[]) {
      return timed(() => (original as (...values: unknown[]) => unknown).apply(this, parameters));
    };
  }
}

/** Times the turn recorder from now on (call once, before sessions start). */
export function instrumentTurnRecorder(): void {
  const methods = Object.getOwnPropertyNames(TurnRecorder.prototype).filter((name) => {
    const descriptor = Object.getOwnPropertyDescriptor(TurnRecorder.prototype, name);
    return name !== 'constructor' && name !== 'attach' && typeof descriptor?.value === 'function';
  });
  wrapMethods(TurnRecorder.prototype, methods);
  wrapMethods(TranscriptRecorder.prototype, ['finishTurn']);
  // The listeners attach() registers run on session events: time them too.
  const attach = TurnRecorder.prototype.attach;
  TurnRecorder.prototype.attach = function (this: TurnRecorder, session) {
    const timedSession = new Proxy(session, {
      get(target, property, receiver) {
        if (property !== 'on') return Reflect.get(target, property, receiver) as unknown;
        return (event: never, listener: (...values: unknown[]) => void) =>
          target.on(event, ((...values: unknown[]) => timed(() => listener(...values))) as never);
      },
    });
    attach.call(this, timedSession);
  };
}

/** Times the queries that write turn rows (`insert into turns`, `update turns`) on a pool. */
export function instrumentRecorderQueries(pool: { query: (...values: never[]) => Promise<unknown> }): void {
  const query = pool.query.bind(pool) as (...values: unknown[]) => Promise<unknown>;
  pool.query = ((...values: unknown[]) => {
    const text = typeof values[0] === 'string' ? values[0].trimStart() : '';
    if (!/^(insert into|update) turns\b/i.test(text)) return query(...values);
    const at = Date.now();
    const started = performance.now();
    return query(...values).finally(() => recorderQueries.push({ at, ms: performance.now() - started }));
  }) as never;
}

/** Ms of the recorder's calls (or of `calls`) that started between `from` and `to` (Date.now() ms). */
export function recorderMsBetween(from: number, to: number, calls = recorderCalls): number {
  return calls.filter((call) => call.at >= from && call.at <= to).reduce((sum, call) => sum + call.ms, 0);
}

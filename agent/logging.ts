import { initializeLogger, log, loggerOptions } from '@livekit/agents';

/**
 * Where `@livekit/agents` keeps its logger (`log_core.js`). A `Symbol.for` key, shared
 * by every copy of the package in the process; the framework exports no setter.
 * `logging.test.ts` checks that the framework logs through what is stored here.
 */
const AGENTS_LOGGER_KEY = Symbol.for('@livekit/agents:logger');

/**
 * The framework marks fields holding what people said, typed, asked to remember or
 * were told (transcripts, tool arguments and results, spoken messages, provider
 * replies) with a `pii` segment in the key (`lk.pii.user_input`). They are logged at
 * info and debug.
 */
const CONTENT_KEY = /(^|\.)pii(\.|$)/;

type Fields = Record<string, unknown>;

/**
 * The same fields with every content field's value replaced by its size, so a log
 * line keeps its shape and says how much was there, never what. Nested objects are
 * filtered too (a field's value may be an object of fields).
 */
export function withoutContent(fields: Fields, depth = 0): Fields {
  let result: Fields | undefined;
  for (const [key, value] of Object.entries(fields)) {
    let replaced = value;
    if (CONTENT_KEY.test(key)) replaced = `[${describeSize(value)}]`;
    else if (depth < 3 && isPlainObject(value)) replaced = withoutContent(value, depth + 1);
    if (replaced !== value) {
      result ??= { ...fields };
      result[key] = replaced;
    }
  }
  return result ?? fields;
}

function describeSize(value: unknown): string {
  if (value === undefined || value === null) return 'empty';
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return `${text.length} characters`;
}

function isPlainObject(value: unknown): value is Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

interface ChildFactory {
  child(bindings: Fields, options?: object): unknown;
}

/**
 * Replaces the framework's logger with a child of it that drops content from every
 * line: from the fields of each call (pino's `formatters.log`) and from the bindings of
 * child loggers (the framework binds a Deepgram message or an inference reply to a
 * child in two places). Children inherit both, so loggers the framework creates later
 * are covered; objects created before this (none, in our entry points) are not.
 */
function filterAgentsLogger(): void {
  const base = log();
  const filtered = base.child(
    {},
    { formatters: { log: (fields: object) => withoutContent(fields as Fields) } },
  );
  const createChild = (filtered as unknown as ChildFactory).child;
  Object.defineProperty(filtered, 'child', {
    value(this: ChildFactory, bindings: Fields, options?: object) {
      return createChild.call(this, withoutContent(bindings), options);
    },
  });
  (globalThis as Record<symbol, unknown>)[AGENTS_LOGGER_KEY] = filtered;
}

let initialized = false;

/**
 * The LiveKit Agents framework logs through its own pino logger, which must exist
 * before any of its objects (audio inputs, sessions) is created. Idempotent. Keeps a
 * logger the framework set up itself (a LiveKit job process does, from the worker's
 * options), and in every case filters conversation content out of its lines at every
 * level: logs carry ids, names and sizes, never what people said.
 */
export function initializeAgentsLogging(level = 'info'): void {
  if (initialized) return;
  initialized = true;
  if (!loggerOptions()) initializeLogger({ pretty: false, level });
  filterAgentsLogger();
}

/**
 * Errors that nothing in the program handled. A rejection nobody awaited (a
 * library's internal promise, a fire-and-forget call) must not end a server that
 * holds other people's conversations, nor a command half way through its files:
 * it is logged and counted, and the program goes on. An exception thrown out of
 * a callback leaves the program in a state nobody planned for, so it is logged,
 * counted and ends the process with status 1, as Node would.
 *
 * The counts are for metrics and tests; they only grow.
 */

/** Where stray errors are reported; a pino logger fits. */
export interface StrayErrorLogger {
  error(details: { err: unknown }, message: string): void;
  fatal(details: { err: unknown }, message: string): void;
}

/** Before a command sets up logging: one line on stderr each. */
const STDERR_LOGGER: StrayErrorLogger = {
  error: (details, message) => process.stderr.write(`${message}: ${describe(details.err)}\n`),
  fatal: (details, message) => process.stderr.write(`${message}: ${describe(details.err)}\n`),
};

let logger: StrayErrorLogger = STDERR_LOGGER;
let rejections = 0;
let exceptions = 0;
let installed = false;

/** How many stray errors this process has had since it started. */
export function strayErrorCounts(): { readonly rejections: number; readonly exceptions: number } {
  return { rejections, exceptions };
}

/**
 * Counts and logs a rejection nobody handled. Called by the process handler,
 * and by code that learns of one elsewhere (a worker thread's).
 */
export function recordStrayRejection(reason: unknown, where = 'this process'): void {
  rejections++;
  logger.error({ err: reason }, `a promise rejection nobody handled, in ${where}; carrying on`);
}

/**
 * Installs the process-wide handlers (once; later calls only change the logger).
 * Entry points call it first thing.
 */
export function installStrayErrorHandlers(to: StrayErrorLogger = STDERR_LOGGER): void {
  logger = to;
  if (installed) return;
  installed = true;
  process.on('unhandledRejection', (reason) => recordStrayRejection(reason));
  process.on('uncaughtException', (error) => {
    exceptions++;
    logger.fatal({ err: error }, 'an exception nobody caught; stopping');
    process.exit(1);
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

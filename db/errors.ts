/**
 * The database is missing, misconfigured or in a state we refuse to touch.
 * The message says what is wrong and what to do; it is meant for the user,
 * so entry points print it without a stack trace.
 */
export class DatabaseSetupError extends Error {
  readonly userFacing = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseSetupError';
  }
}

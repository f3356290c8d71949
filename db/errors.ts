import { AppError } from '../protocol/index.ts';

/**
 * The database is missing, misconfigured or in a state we refuse to touch.
 * The message says what is wrong and what to do; it is meant for the user,
 * so entry points print it without a stack trace.
 */
export class DatabaseSetupError extends AppError<'database-setup'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('database-setup', message, { userFacing: true, retryable: false, cause: options?.cause });
  }
}

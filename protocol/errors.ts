/**
 * The one base error of the application. Every error we throw on purpose carries a
 * stable `code` (for logs, metrics and API answers), whether its message is written for
 * people (`userFacing`: safe to show or speak as is, no stack trace needed) and whether
 * trying again later may work (`retryable`). Errors are classified where they are
 * thrown; boundaries (HTTP routes, the socket, the CLI, a live conversation) only read
 * these three fields.
 */
export class AppError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly userFacing: boolean;
  readonly retryable: boolean;

  constructor(
    code: Code,
    message: string,
    options: { userFacing: boolean; retryable: boolean; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.userFacing = options.userFacing;
    this.retryable = options.retryable;
    // Subclasses get their own name in logs and stack traces without repeating it.
    this.name = new.target.name;
  }
}

/** Whether an error's message is written for people and may be shown or spoken as is. */
export function isUserFacing(error: unknown): error is AppError & { readonly userFacing: true } {
  return error instanceof AppError && error.userFacing;
}

/** The error's message when it is written for people, `fallback` otherwise. */
export function userMessage(error: unknown, fallback: string): string {
  return isUserFacing(error) ? error.message : fallback;
}

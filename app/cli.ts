/**
 * Shared plumbing for the command-line entry points: argument parsing conventions and
 * error reporting. Errors meant for the user (configuration, database setup, bad input)
 * print their message alone; anything else is a bug and prints its stack.
 */

/** An error whose message is written for the user and needs no stack trace. */
export interface UserFacingError extends Error {
  readonly userFacing: true;
}

export function isUserFacing(error: unknown): error is UserFacingError {
  return error instanceof Error && (error as Partial<UserFacingError>).userFacing === true;
}

/** Runs a command's main function; sets the exit code and prints errors plainly. */
export function runCommand(main: () => Promise<number | void>): void {
  main().then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (error: unknown) => {
      if (isUserFacing(error)) {
        process.stderr.write(`error: ${error.message}\n`);
      } else {
        process.stderr.write(
          `unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
        );
      }
      process.exitCode = 1;
    },
  );
}

/** A command-line usage problem; printed with the command's usage text. */
export class UsageError extends Error {
  readonly userFacing = true;
  constructor(message: string, usage: string) {
    super(`${message}\n\n${usage}`);
    this.name = 'UsageError';
  }
}

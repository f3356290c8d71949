import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseUserReference, UserReferenceError, type UserReference } from '../agent/user-reference.ts';
import { AppError, isUserFacing } from '../protocol/index.ts';
import { installStrayErrorHandlers } from '../agent/stray-errors.ts';

/**
 * Shared plumbing for the command-line entry points: argument parsing conventions and
 * error reporting. Errors meant for the user (configuration, database setup, bad input)
 * print their message alone; anything else is a bug and prints its stack.
 */

/**
 * Runs a command's main function; sets the exit code and prints errors plainly. A
 * rejection nobody handled (a library's) is logged and counted, never the end of the
 * command (agent/stray-errors.ts).
 */
export function runCommand(main: () => Promise<number | void>): void {
  installStrayErrorHandlers();
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

/**
 * A command-line usage problem: printed as one line, the problem then the usage's first
 * line (`--help` prints all of it).
 */
export class UsageError extends AppError<'usage'> {
  constructor(message: string, usage: string) {
    super('usage', `${message} ${usage.split('\n')[0] ?? ''} (--help explains more)`, {
      userFacing: true,
      retryable: false,
    });
  }
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses a command's arguments (`--help`/`-h` is added to every command). Returns
 * undefined after printing the usage for `--help`; a bad argument is a {@link UsageError}.
 */
export function parseCommandLine<const Options extends OptionsConfig>(
  usage: string,
  options: Options,
  settings: { positionals: boolean; args?: string[] },
) {
  const args = settings.args ?? process.argv.slice(2);
  const end = args.indexOf('--');
  if ((end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h')) {
    console.log(usage);
    return undefined;
  }
  try {
    return parseArgs({ args, options, allowPositionals: settings.positionals, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message, usage);
  }
}

/** A `--user` value: a user id, `web:<id>` or `phone:<E.164 number>` (see agent/user-reference.ts). */
export function parseUserArgument(value: string, usage: string): UserReference {
  try {
    return parseUserReference(value);
  } catch (error) {
    if (error instanceof UserReferenceError) throw new UsageError(`--user ${error.message}`, usage);
    throw error;
  }
}

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { isE164 } from '../agent/sip/phone-number.ts';
import type { Identity } from '../db/index.ts';
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

/** A command-line usage problem; printed with the command's usage text. */
export class UsageError extends AppError<'usage'> {
  constructor(message: string, usage: string) {
    super('usage', `${message}\n\n${usage}`, { userFacing: true, retryable: false });
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

/** A `--user` value: `web:<browser id>` or `phone:<E.164 number>`. */
export function parseIdentityArgument(value: string, usage: string): Identity {
  const match = /^(web|phone):(.+)$/.exec(value);
  if (!match)
    throw new UsageError(`--user must look like web:<id> or phone:<number>, not "${value}".`, usage);
  const identity = { kind: match[1] as Identity['kind'], value: match[2] as string };
  if (identity.kind === 'phone' && !isE164(identity.value)) {
    throw new UsageError(
      `--user ${value}: phone numbers are written in E.164, like phone:+15551234567.`,
      usage,
    );
  }
  return identity;
}

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What a command printed and how it ended. */
export interface CommandOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The launcher `npm run <command>` runs (it compiles the commands; see app/command-build.mjs). */
const LAUNCHER = fileURLToPath(new URL('../../app/launch.mjs', import.meta.url));
const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Runs `app/<script>` (`ask.ts`) as `npm run` does, through app/launch.mjs, in a child
 * process (asynchronously, so fakes in this process keep answering). `env` replaces the
 * environment entirely except PATH: the child sees only what the test sets, not the
 * developer's `.env` or shell.
 */
export function runApp(
  script: string,
  args: readonly string[],
  env: Record<string, string>,
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [LAUNCHER, script.replace(/\.ts$/, ''), ...args], {
      cwd: options.cwd ?? REPOSITORY,
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: options.timeoutMs ?? 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

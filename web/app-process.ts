import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Helpers for tests that run the whole assistant as `npm start` does. */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `npm start` running in a child process. */
export interface RunningApp {
  /** The URL it printed. */
  url: string;
  process: ChildProcess;
  /** Everything it printed so far. */
  output: string[];
}

/**
 * Runs what `npm start` runs (app/launch.mjs start) with only the given settings
 * (plus PATH and HOME) on a free port; resolves once it prints the URL to open.
 * Settings must include an absolute DATA_DIR, which is also its working directory.
 */
export async function startApp(settings: Record<string, string>): Promise<RunningApp> {
  const port = await freePort();
  // As `npm start` runs it, without npm in between (signals reach the app itself).
  const child = spawn(process.execPath, [path.join(ROOT, 'app', 'launch.mjs'), 'start'], {
    // A working directory without a .env, so a developer's own settings do not leak in.
    cwd: settings.DATA_DIR,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...settings,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start printed no URL:\n${output.join('')}`)),
      100_000,
    );
    const read = (data: Buffer) => {
      output.push(data.toString());
      const match = /Open (http:\/\/\S+)/.exec(output.join(''));
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ url: match[1], process: child, output });
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${output.join('')}`));
    });
  });
}

/** Stops it the way Ctrl-C would (it ends live conversations first); kills it after 10 s. */
export async function stopApp(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

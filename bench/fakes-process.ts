import { spawn, type ChildProcess } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startFakes } from '../test/fakes/index.ts';
import { fakesOptions, QUESTIONS } from './voice-script.ts';

/**
 * The fakes in a process of their own, so that the capacity benchmark measures the CPU
 * and memory of the assistant alone. Run as a program it starts the fakes, prints their
 * environment as one JSON line and serves until its stdin closes. Every utterance is
 * heard as the first scripted question.
 */

/** Starts the fakes process; resolves with the configuration that points at it. */
export async function startFakesProcess(): Promise<{ environment: Record<string, string>; close(): void }> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const environment = await new Promise<Record<string, string>>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the fakes process exited with code ${code}`)));
    lines.once('line', (line) => resolve(JSON.parse(line) as Record<string, string>));
  });
  return {
    environment,
    close: () => {
      child.stdin?.end();
      lines.close();
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // Every open socket of a fake waits on the server's one closing signal: many sessions, many listeners.
  setMaxListeners(0);
  const transcript = QUESTIONS[0]!.transcript;
  const fakes = await startFakes(fakesOptions(() => transcript));
  process.stdout.write(`${JSON.stringify(fakes.environment)}\n`);
  process.stdin.resume();
  process.stdin.once('end', () => void fakes.close().then(() => process.exit(0)));
}

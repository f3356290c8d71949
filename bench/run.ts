import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine } from './report.ts';

/**
 * `npm run bench -- [names...] [--json] [options]`: runs the named benchmarks (all of
 * them when none is named), each in a process of its own so that one benchmark's memory,
 * CPU and loaded models do not colour the next one's numbers. Options other than names
 * are passed on to every benchmark. Exits non-zero when any benchmark failed.
 */

const BENCH_DIRECTORY = path.dirname(fileURLToPath(import.meta.url));

/** Every benchmark, in the order `npm run bench` runs them, with the Node flags it needs. */
const BENCHMARKS: Record<string, { nodeFlags: string[] }> = {
  'voice-latency': { nodeFlags: [] },
  'barge-in': { nodeFlags: [] },
  retrieval: { nodeFlags: [] },
  ingest: { nodeFlags: [] },
  transcription: { nodeFlags: [] },
  // Memory per session and after sessions end is read after a full garbage collection.
  capacity: { nodeFlags: ['--expose-gc'] },
  startup: { nodeFlags: [] },
};

function runOne(name: string, forwarded: string[]): Promise<number> {
  const file = path.join(BENCH_DIRECTORY, `${name}.ts`);
  if (!existsSync(file)) {
    process.stderr.write(`bench: ${path.relative(process.cwd(), file)} does not exist (yet); skipped\n`);
    return Promise.resolve(1);
  }
  const flags = BENCHMARKS[name]?.nodeFlags ?? [];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', file, ...forwarded], {
    stdio: 'inherit',
    env: process.env,
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.once('SIGINT', forward);
  process.once('SIGTERM', forward);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const names = argv.filter((argument) => !argument.startsWith('--') && argument in BENCHMARKS);
  const unknown = argv.filter(
    (argument, index) =>
      !argument.startsWith('--') && !(argument in BENCHMARKS) && !argv[index - 1]?.startsWith('--'),
  );
  if (unknown.length > 0) {
    process.stderr.write(
      `bench: unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHMARKS).join(', ')}\n`,
    );
    return 2;
  }
  const forwarded = argv.filter((argument) => !names.includes(argument));
  const selected = names.length > 0 ? names : Object.keys(BENCHMARKS);
  process.stderr.write(`bench: ${selected.join(', ')} on ${machineLine()}\n`);

  const outcomes: { name: string; code: number; seconds: number }[] = [];
  for (const name of selected) {
    const started = performance.now();
    const code = await runOne(name, forwarded);
    outcomes.push({ name, code, seconds: (performance.now() - started) / 1000 });
  }
  process.stderr.write('\nbench summary\n');
  for (const { name, code, seconds } of outcomes) {
    process.stderr.write(
      `  ${name.padEnd(14)} ${code === 0 ? 'ok    ' : `failed (${code})`} ${seconds.toFixed(0)} s\n`,
    );
  }
  return outcomes.some((outcome) => outcome.code !== 0) ? 1 : 0;
}

process.exitCode = await main();

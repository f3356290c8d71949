import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What every benchmark shares: percentiles, the printed table, target checks and the
 * JSON results. With `--json` the table goes to stderr so that stdout carries only
 * the metrics, one JSON object per line; the same lines go to `bench/results/<name>.json`.
 */

/** One measured quantity; `value` is the headline number (p50 unless the benchmark says otherwise). */
export interface Metric {
  name: string;
  value: number;
  unit: string;
  p50: number;
  p95: number;
  n: number;
  /** A comparison measured side by side in the same run (e.g. 20 sessions against 1). */
  ratio?: number;
}

/** A target from the issue, checked against a measured value. */
export interface Check {
  what: string;
  actual: number;
  limit: number;
  unit: string;
  /** 'max': the actual must not exceed the limit; 'min': it must reach it. */
  kind: 'max' | 'min';
}

export const RESULTS_DIRECTORY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');

/** Percentile `p` (0-100) of samples, linearly interpolated between closest ranks. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lowValue = sorted[low] as number;
  return lowValue + ((sorted[high] as number) - lowValue) * (rank - low);
}

export function mean(samples: readonly number[]): number {
  return samples.length === 0 ? Number.NaN : samples.reduce((sum, value) => sum + value, 0) / samples.length;
}

/** Rounds for reporting: 3 significant decimals below 10, 1 decimal above. */
function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  return Math.abs(value) < 10 ? Math.round(value * 1000) / 1000 : Math.round(value * 10) / 10;
}

/** A metric from repeated samples; `value` defaults to the p50. */
export function summarize(
  name: string,
  unit: string,
  samples: readonly number[],
  extra: { value?: number; ratio?: number } = {},
): Metric {
  const p50 = percentile(samples, 50);
  return {
    name,
    value: round(extra.value ?? p50),
    unit,
    p50: round(p50),
    p95: round(percentile(samples, 95)),
    n: samples.length,
    ...(extra.ratio !== undefined ? { ratio: round(extra.ratio) } : {}),
  };
}

/** Parses the arguments every benchmark takes: `--json`, and `--name value` / `--flag` options. */
export function benchArguments(argv = process.argv.slice(2)): {
  json: boolean;
  options: Map<string, string>;
} {
  const options = new Map<string, string>();
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] as string;
    if (!argument.startsWith('--')) continue;
    const next = argv[index + 1];
    if (next !== undefined && !next.startsWith('--')) {
      options.set(argument.slice(2), next);
      index++;
    } else options.set(argument.slice(2), 'true');
  }
  return { json: options.has('json'), options };
}

/** A numeric option (`--turns 20`) or its default. */
export function numberOption(options: Map<string, string>, name: string, fallback: number): number {
  const raw = options.get(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`--${name} expects a number, got "${raw}"`);
  return value;
}

/** Where human-readable output goes: stderr when stdout carries JSON. */
export function humanOutput(json: boolean): NodeJS.WritableStream {
  return json ? process.stderr : process.stdout;
}

/** The machine and its load right now, as `uptime` would say it. */
export function machineLine(): string {
  const cpus = os.cpus();
  const load = os.loadavg().map((value) => value.toFixed(2));
  return (
    `${cpus.length} x ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
    `Node ${process.versions.node}, load average ${load.join(' ')}`
  );
}

/** Prints metrics as an aligned table under a title. */
export function printTable(
  title: string,
  metrics: readonly Metric[],
  out: NodeJS.WritableStream = process.stdout,
): void {
  const header = ['metric', 'value', 'unit', 'p50', 'p95', 'n', 'ratio'];
  const rows = metrics.map((metric) => [
    metric.name,
    String(metric.value),
    metric.unit,
    String(metric.p50),
    String(metric.p95),
    String(metric.n),
    metric.ratio === undefined ? '' : String(metric.ratio),
  ]);
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    cells.map((cell, column) =>
      column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
    );
  out.write(`\n${title}\n${machineLine()}\n`);
  out.write(`${line(header).join('  ')}\n${widths.map((width) => '-'.repeat(width)).join('  ')}\n`);
  for (const row of rows) out.write(`${line(row).join('  ')}\n`);
}

/** One line per target: met, or missed and by how much. */
export function describeCheck(check: Check): string {
  const met = check.kind === 'max' ? check.actual <= check.limit : check.actual >= check.limit;
  const sign = check.kind === 'max' ? '<=' : '>=';
  const unit = check.unit === '' ? '' : ` ${check.unit}`;
  const target = `${check.what} ${round(check.actual)}${unit} (target ${sign} ${check.limit}${unit})`;
  if (met) return `met     ${target}`;
  const gap = Math.abs(check.actual - check.limit);
  const relative = check.limit !== 0 ? ` (${Math.round((gap / Math.abs(check.limit)) * 100)}%)` : '';
  return `MISSED  ${target}: by ${round(gap)}${unit}${relative}`;
}

export function printChecks(checks: readonly Check[], out: NodeJS.WritableStream = process.stdout): void {
  if (checks.length === 0) return;
  out.write('\ntargets\n');
  for (const check of checks) out.write(`  ${describeCheck(check)}\n`);
}

/**
 * Prints each metric as one JSON line on stdout and writes the same lines to
 * `bench/results/<benchName>.json`, when `json` is set; does nothing otherwise.
 */
export async function writeResults(
  benchName: string,
  metrics: readonly Metric[],
  json: boolean,
): Promise<void> {
  if (!json) return;
  const lines = metrics.map((metric) => JSON.stringify(metric)).join('\n');
  process.stdout.write(`${lines}\n`);
  await mkdir(RESULTS_DIRECTORY, { recursive: true });
  await writeFile(path.join(RESULTS_DIRECTORY, `${benchName}.json`), `${lines}\n`);
}

/**
 * Runs `ours` and `baseline` alternately (which goes first alternates too), after two
 * warm-up runs of each, so machine noise hits both alike. Each returns its run's ms.
 */
export async function measurePairs(
  count: number,
  ours: () => Promise<number>,
  baseline: () => Promise<number>,
): Promise<{ oursMs: number[]; baselineMs: number[] }> {
  for (let index = 0; index < 2; index++) {
    await baseline();
    await ours();
  }
  const oursMs: number[] = [];
  const baselineMs: number[] = [];
  for (let index = 0; index < count; index++) {
    if (index % 2 === 0) {
      baselineMs.push(await baseline());
      oursMs.push(await ours());
    } else {
      oursMs.push(await ours());
      baselineMs.push(await baseline());
    }
  }
  return { oursMs, baselineMs };
}

/** Milliseconds `work` takes. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** The median of per-pair `baseline / ours` time ratios: ours' throughput as a fraction of the baseline's. */
export function medianRatio(baselineMs: readonly number[], oursMs: readonly number[]): number {
  return percentile(
    oursMs.map((ms, index) => (baselineMs[index] as number) / ms),
    50,
  );
}

/**
 * `amount` (pages, audio minutes) per second at the median run and at the slow tail (the
 * p95 of run times, so "p95" is the lower throughput, as for latencies it is the higher).
 */
export function throughputMetric(
  name: string,
  unit: string,
  amount: number,
  runMs: readonly number[],
  ratio?: number,
): Metric {
  const perSecond = (ms: number): number => Math.round((amount / (ms / 1000)) * 10) / 10;
  return {
    name,
    value: perSecond(percentile(runMs, 50)),
    unit,
    p50: perSecond(percentile(runMs, 50)),
    p95: perSecond(percentile(runMs, 95)),
    n: runMs.length,
    ...(ratio === undefined ? {} : { ratio: Math.round(ratio * 1000) / 1000 }),
  };
}

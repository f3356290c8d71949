import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/**
 * CPU profiles of a window of a benchmark (the V8 sampling profiler through the
 * inspector), summarised by where the main thread's time went: each npm package, each
 * of our files, garbage collection, idle. The .cpuprofile opens in Chrome DevTools.
 */

interface ProfileNode {
  id: number;
  callFrame: { url: string; functionName: string };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Main-thread milliseconds per package or file, largest first. */
export function summarizeProfile(profile: Profile, top = 12): { where: string; ms: number }[] {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const frame = nodes.get(id)?.callFrame;
    const url = frame?.url ?? '';
    const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
    const where =
      dependency ??
      (url.startsWith('file://')
        ? url.replace(/^file:\/\/.*?\/(agent|bench|db|ingest|media|test|web|app|config)\//, '$1/')
        : url.startsWith('node:')
          ? url.replace(/^node:internal\/([^/]+).*$/, 'node:$1')
          : url === ''
            ? `(${frame?.functionName || 'native'})`
            : url);
    totals.set(where, (totals.get(where) ?? 0) + (profile.timeDeltas[index] ?? 0) / 1000);
  });
  return [...totals]
    .map(([where, ms]) => ({ where, ms }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top);
}

/** Starts profiling this process; the returned function stops, writes `file` and summarises. */
export async function startCpuProfile(file: string): Promise<() => Promise<{ where: string; ms: number }[]>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
    session.disconnect();
    await writeFile(file, JSON.stringify(profile));
    return summarizeProfile(profile);
  };
}

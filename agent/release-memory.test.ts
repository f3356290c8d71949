import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { canReleaseFreedMemory } from './release-memory.ts';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const MODULE = pathToFileURL(fileURLToPath(new URL('./release-memory.ts', import.meta.url))).href;

/**
 * In a fresh process: 200 MB in small native allocations (Buffers of 1 to 4 KB, which
 * glibc serves from its heap, not from their own mappings), all freed by a full garbage
 * collection. `mode` "call": released by a call afterwards (a conversation ended);
 * "collection": a call before the allocations only arms the release after every full
 * collection. Prints resident MB at three moments.
 */
const script = (mode: 'call' | 'collection') => `
import { releaseFreedMemorySoon } from ${JSON.stringify(MODULE)};
const rss = () => Math.round(process.memoryUsage().rss / 2 ** 20);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
if (${JSON.stringify(mode)} === 'collection') { releaseFreedMemorySoon(); await sleep(1_500); }
let buffers = [];
for (let index = 0; index < 80_000; index++) buffers.push(Buffer.alloc(1024 + (index % 3072)));
const allocated = rss();
buffers = [];
globalThis.gc(); globalThis.gc();
await sleep(100);
const freed = rss();
if (${JSON.stringify(mode)} === 'call') releaseFreedMemorySoon();
await sleep(6_500);
console.log(JSON.stringify({ allocated, freed, released: rss() }));
`;

async function run(
  mode: 'call' | 'collection',
): Promise<{ allocated: number; freed: number; released: number }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--import', TSX, '--input-type=module', '-e', script(mode)],
    { timeout: 60_000 },
  );
  return JSON.parse(stdout) as { allocated: number; freed: number; released: number };
}

describe.runIf(canReleaseFreedMemory())('releasing freed native memory after conversations end', () => {
  it.each(['call', 'collection'] as const)(
    'gives what the allocator kept after a free back to the system (released on %s)',
    async (mode) => {
      const { allocated, freed, released } = await run(mode);
      // Freed but still resident: what the soak saw (the reason this exists).
      expect(freed).toBeGreaterThan(allocated * 0.8);
      expect(released).toBeLessThan(freed - 100);
    },
    90_000,
  );
});

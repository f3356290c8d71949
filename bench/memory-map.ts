import { readFileSync } from 'node:fs';

/**
 * Where this process's resident memory is, from `/proc/self/smaps` (Linux only), in
 * bytes. `process.memoryUsage()` says how much is resident and how much of it V8 knows
 * about; this says which kind of mapping holds the rest:
 * - `wasm`: anonymous mappings of at least 4 GiB of address space. V8 reserves that much
 *   (plus guard pages) for every 32-bit WebAssembly memory; nothing else here maps so
 *   much, so this is the embedded database's WASM heap (PGlite), which can only grow.
 * - `mallocHeap`: the main malloc arena (`[heap]`, grown with brk).
 * - `anonymous`: every other anonymous mapping: V8's heap pages, malloc's other arenas
 *   (one per thread that allocated, 64 MiB each at most), native buffers, libvips, ONNX.
 * - `files`: file-backed mappings (code of node and native addons, model files mapped).
 * `privateDirty` is the part no one else shares and the kernel cannot drop.
 */
export interface MemoryMap {
  wasm: number;
  mallocHeap: number;
  anonymous: number;
  files: number;
  privateDirty: number;
  /**
   * Resident bytes in anonymous mappings that start on a 64 MiB boundary and are at most
   * 64 MiB long: where glibc puts its non-main malloc arenas (a subset of `anonymous`).
   */
  arenas: number;
}

const WASM_RESERVATION = 4 * 2 ** 30;
const ARENA_SIZE = 64 * 2 ** 20;

/** Reads `/proc/self/smaps`; zeros where it does not exist (not Linux). */
export function memoryMap(): MemoryMap {
  const map: MemoryMap = { wasm: 0, mallocHeap: 0, anonymous: 0, files: 0, privateDirty: 0, arenas: 0 };
  let text: string;
  try {
    text = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return map;
  }
  let kind: 'wasm' | 'mallocHeap' | 'anonymous' | 'files' = 'anonymous';
  let arena = false;
  for (const line of text.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line);
    if (header) {
      const start = Number.parseInt(header[1]!, 16);
      const size = Number.parseInt(header[2]!, 16) - start;
      const name = header[4]!;
      arena = false;
      if (name === '[heap]') kind = 'mallocHeap';
      else if (name.startsWith('/')) kind = 'files';
      else if (size >= WASM_RESERVATION) kind = 'wasm';
      else {
        kind = 'anonymous';
        arena = size <= ARENA_SIZE && start % ARENA_SIZE === 0;
      }
      continue;
    }
    const field = /^(Rss|Private_Dirty):\s+(\d+) kB/.exec(line);
    if (!field) continue;
    const bytes = Number(field[2]) * 1024;
    if (field[1] === 'Rss') {
      map[kind] += bytes;
      if (arena) map.arenas += bytes;
    } else map.privateDirty += bytes;
  }
  return map;
}

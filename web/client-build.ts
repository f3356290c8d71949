import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AppError } from '../protocol/index.ts';

/** The client's sources (index.html, src/), built by Vite. */
export const CLIENT_ROOT = fileURLToPath(new URL('./client/', import.meta.url));
/** The built page the server serves. */
export const CLIENT_DIRECTORY = path.join(CLIENT_ROOT, 'dist');
/** The contract shared with the server and the agent: a change there rebuilds the client. */
const PROTOCOL_ROOT = fileURLToPath(new URL('../protocol/', import.meta.url));

/** The page could not be built; the message says what to do. */
export class ClientBuildError extends AppError<'client-build'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('client-build', message, { userFacing: true, retryable: false, cause: options?.cause });
  }
}

/** Builds the client with Vite into {@link CLIENT_DIRECTORY}. */
export async function buildClient(): Promise<void> {
  // Loaded only when building: Vite is large and most starts do not need it.
  const { build } = await import('vite');
  try {
    await build({
      root: CLIENT_ROOT,
      configFile: false,
      logLevel: 'warn',
      // livekit-client (about 580 kB) is its own chunk, loaded only in LiveKit mode.
      build: {
        outDir: CLIENT_DIRECTORY,
        emptyOutDir: true,
        target: 'es2022',
        sourcemap: true,
        chunkSizeWarningLimit: 1024,
      },
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new ClientBuildError(
        `The page could not be built: ${CLIENT_DIRECTORY} is not writable. ` +
          'Run `npm run build` once as a user who may write there (a container image should build it).',
        { cause: error },
      );
    }
    throw error;
  }
}

/** Whether the build is missing or older than any client source. */
export async function clientBuildIsStale(): Promise<boolean> {
  let builtAt: number;
  try {
    builtAt = (await stat(path.join(CLIENT_DIRECTORY, 'index.html'))).mtimeMs;
  } catch {
    return true;
  }
  const sources = [...(await listSources(CLIENT_ROOT)), ...(await listSources(PROTOCOL_ROOT))];
  for (const source of sources) if ((await stat(source)).mtimeMs > builtAt) return true;
  return false;
}

/**
 * Builds the client when it is missing or stale; returns whether it built. `onBuild`
 * hears first, so a person waiting knows what takes the time.
 */
export async function ensureClientBuilt(onBuild?: () => void): Promise<boolean> {
  if (!(await clientBuildIsStale())) return false;
  onBuild?.();
  await buildClient();
  return true;
}

async function listSources(directory: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && !entry.name.startsWith('dist'))
        files.push(...(await listSources(full)));
    } else if (!entry.name.endsWith('.test.ts')) {
      files.push(full);
    }
  }
  return files;
}

// `npm run build`: build the client now.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  buildClient().then(
    () => console.log(`Built the page into ${path.relative(process.cwd(), CLIENT_DIRECTORY)}.`),
    (error: unknown) => {
      console.error(`The page could not be built: ${(error as Error).message}`);
      process.exitCode = 1;
    },
  );
}

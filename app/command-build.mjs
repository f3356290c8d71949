// @ts-check
// The commands (app/*.ts) compiled to JavaScript by esbuild, for app/launch.mjs: bundled
// (our modules only; packages stay Node's to load), split so that what a command imports
// lazily (the voice stack after the server listens) stays lazy. Under tsx's loader every
// module, ours and each package's, passes through its resolve and load hooks on another
// thread; the compiled commands load as plain JavaScript (README, Startup).
//
// A build lives in its own directory under node_modules/.cache/voice-assistant/commands;
// manifest.json names the current one with the size and modification time of every file
// it was built from, so an edit since then (or a checkout) is seen at the next command,
// which builds again (~0.3 s). `node app/command-build.mjs` builds now (npm install and
// `npm run build` do).
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The commands: each an entry point app/<name>.ts. */
export const COMMANDS = ['start', 'ask', 'ingest', 'erase', 'turns', 'migrate', 'sip-setup', 'call'];
/** Entry points the launcher runs for the program itself, not for people: `npm start`'s conversation processes. */
export const INTERNAL_COMMANDS = ['conversation-process'];
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/**
 * Where the commands are and where their builds go (tests use a folder of their own).
 * @typedef {{ root: string, cache: string, commands: readonly string[] }} Place
 * @type {Place}
 */
const HERE = {
  root: ROOT,
  cache: path.join(ROOT, 'node_modules', '.cache', 'voice-assistant', 'commands'),
  commands: [...COMMANDS, ...INTERNAL_COMMANDS],
};
/** Bumped when the build options change, so that an older build is not reused. */
const BUILD_FORMAT = 1;
/**
 * Older builds are removed once they are this old and three newer ones exist: a running
 * server loads its lazy chunks from its own build, and concurrent commands may each build.
 */
const KEEP_BUILDS = 3;
const KEEP_MS = 10 * 60_000;

/**
 * The current build's directory when every file it was built from is unchanged (same
 * size and modification time), else undefined.
 * @param {Place} place
 * @returns {Promise<string | undefined>}
 */
async function freshBuild({ root, cache, commands }) {
  /** @type {{ format: number, directory: string, inputs: Record<string, [number, number]> }} */
  let manifest;
  try {
    manifest = JSON.parse(await readFile(path.join(cache, 'manifest.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (manifest.format !== BUILD_FORMAT) return undefined;
  const built = path.join(cache, manifest.directory);
  const present = (/** @type {string} */ file) =>
    stat(file).then(
      () => true,
      () => false,
    );
  const unchanged = await Promise.all([
    // A build folder someone deleted is built again, not imported.
    ...commands.map((name) => present(path.join(built, `${name}.js`))),
    ...Object.entries(manifest.inputs).map(([file, [size, modified]]) =>
      stat(path.join(root, file)).then(
        (found) => found.size === size && found.mtimeMs === modified,
        () => false,
      ),
    ),
  ]);
  return unchanged.every(Boolean) ? built : undefined;
}

/**
 * Compiles every command into a new directory under the cache folder and points the
 * manifest at it. `import.meta.url` keeps meaning the source file's own address: modules find the page,
 * the migrations and their packages relative to it.
 * @param {Place} place
 * @returns {Promise<string>}
 */
async function build({ root, cache, commands }) {
  const esbuild = await import('esbuild');
  await mkdir(cache, { recursive: true });
  const directory = `build-${Date.now()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  // Each source's size and time as they were just before it was read: a file saved
  // during the build then looks changed at the next command, which builds again.
  /** @type {Map<string, [number, number]>} */
  const readAs = new Map();
  /** @type {import('esbuild').Plugin} */
  const ownAddress = {
    name: 'own-import-meta-url',
    setup(builder) {
      builder.onLoad({ filter: /\.ts$/ }, async ({ path: file }) => {
        const before = await stat(file);
        readAs.set(file, [before.size, before.mtimeMs]);
        const source = await readFile(file, 'utf8');
        const address = JSON.stringify(pathToFileURL(file).href);
        return { contents: source.replaceAll('import.meta.url', address), loader: 'ts' };
      });
    },
  };
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(commands.map((name) => [name, `app/${name}.ts`])),
    outdir: path.join(cache, directory),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
    plugins: [ownAddress],
  });
  /** @type {Record<string, [number, number]>} */
  const inputs = {};
  for (const file of Object.keys(result.metafile.inputs)) {
    const absolute = path.join(root, file);
    const found = readAs.get(absolute) ?? (await stat(absolute).then((now) => [now.size, now.mtimeMs]));
    inputs[file] = /** @type {[number, number]} */ (found);
  }
  const manifest = path.join(cache, 'manifest.json');
  const temporary = `${manifest}.${process.pid}`;
  await writeFile(temporary, JSON.stringify({ format: BUILD_FORMAT, directory, inputs }));
  await rename(temporary, manifest);
  await removeOldBuilds(cache, directory);
  return path.join(cache, directory);
}

/**
 * @param {string} cache
 * @param {string} current
 */
async function removeOldBuilds(cache, current) {
  const builtAt = (/** @type {string} */ name) => Number(name.split('-')[1]);
  const older = (await readdir(cache))
    .filter((name) => name.startsWith('build-') && name !== current)
    .sort((a, b) => builtAt(b) - builtAt(a))
    .slice(KEEP_BUILDS)
    .filter((name) => Date.now() - builtAt(name) > KEEP_MS);
  for (const name of older) await rm(path.join(cache, name), { recursive: true, force: true });
}

/**
 * The compiled commands, built first when missing or out of date; undefined when esbuild
 * could not build them (`onFailure` hears why; the caller runs the sources under tsx).
 * @param {(reason: string) => void} onFailure
 * @param {Place} [place] this project's commands unless a test says otherwise
 * @returns {Promise<string | undefined>}
 */
export async function compiledCommands(onFailure, place = HERE) {
  const fresh = await freshBuild(place);
  if (fresh) return fresh;
  try {
    return await build(place);
  } catch (error) {
    /** @type {{ errors?: { text: string, location?: { file: string, line: number } | null }[] }} */
    const failure = /** @type {never} */ (error);
    const first = failure.errors?.[0];
    onFailure(
      first
        ? `${first.location ? `${first.location.file}:${first.location.line}: ` : ''}${first.text}`
        : (String(error instanceof Error ? error.message : error).split('\n')[0] ?? ''),
    );
    return undefined;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const built = await compiledCommands((reason) =>
    console.log(`Did not compile the commands (${reason}); they run under tsx until they compile.`),
  );
  if (built) console.log(`Compiled the commands (${path.relative(ROOT, built)}).`);
}

import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compiledCommands, type Place } from './command-build.mjs';

describe('compiledCommands (what app/launch.mjs runs)', () => {
  let place: Place;
  const failures: string[] = [];
  const build = () => compiledCommands((reason) => failures.push(reason), place);
  const source = (file: string) => path.join(place.root, file);

  beforeEach(async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'command-build-'));
    place = { root, cache: path.join(root, 'cache'), commands: ['hello'] };
    failures.length = 0;
    await mkdir(path.join(root, 'app'));
    await writeFile(
      source('app/hello.ts'),
      "import { greeting } from './greeting.ts';\nexport const message: string = greeting;\nexport const address = import.meta.url;\n",
    );
    await writeFile(source('app/greeting.ts'), "export const greeting = 'hello';\n");
  });
  afterEach(async () => {
    await rm(place.root, { recursive: true, force: true });
  });

  const load = async (directory: string | undefined) => {
    expect(directory).toBeDefined();
    return (await import(`${pathToFileURL(path.join(directory!, 'hello.js')).href}?${Date.now()}`)) as {
      message: string;
      address: string;
    };
  };

  it('compiles the commands once and reuses the build while no source changed', async () => {
    const first = await build();
    expect((await load(first)).message).toBe('hello');
    expect(await build()).toBe(first);
    expect(failures).toEqual([]);
  });

  it('keeps import.meta.url the source file’s own address', async () => {
    expect((await load(await build())).address).toBe(pathToFileURL(source('app/hello.ts')).href);
  });

  it('compiles again when an imported file changed, even to the same size', async () => {
    const first = await build();
    await writeFile(source('app/greeting.ts'), "export const greeting = 'howdy';\n");
    // Same length, and a modification time of its own (file systems may round it).
    await utimes(source('app/greeting.ts'), new Date(), new Date(Date.now() + 5_000));
    const second = await build();
    expect(second).not.toBe(first);
    expect((await load(second)).message).toBe('howdy');
  });

  it('compiles again when the build folder was deleted', async () => {
    const first = await build();
    await rm(first!, { recursive: true });
    const second = await build();
    expect(second).not.toBe(first);
    expect((await load(second)).message).toBe('hello');
  });

  it('says where a source does not compile and returns no build (the launcher runs tsx)', async () => {
    await writeFile(source('app/greeting.ts'), 'export const greeting = ;\n');
    expect(await build()).toBeUndefined();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/app\/greeting\.ts:1: /);
  });

  it('keeps the newest builds, which running commands may still load chunks from', async () => {
    for (let round = 0; round < 6; round++) {
      await writeFile(source('app/greeting.ts'), `export const greeting = 'hello ${round}';\n`);
      await utimes(source('app/greeting.ts'), new Date(), new Date(Date.now() + round * 1000));
      await build();
    }
    // Builds younger than ten minutes are all kept.
    expect((await readdir(place.cache)).filter((name) => name.startsWith('build-'))).toHaveLength(6);
  });

  it('removes a build an hour old once three newer ones exist', async () => {
    await mkdir(path.join(place.cache, `build-${Date.now() - 3_600_000}-1-old`), { recursive: true });
    for (let round = 0; round < 4; round++) {
      await writeFile(source('app/greeting.ts'), `export const greeting = 'hello ${round}';\n`);
      await utimes(source('app/greeting.ts'), new Date(), new Date(Date.now() + round * 1000));
      await build();
    }
    const builds = (await readdir(place.cache)).filter((name) => name.startsWith('build-'));
    expect(builds).toHaveLength(4);
    expect(builds.some((name) => name.endsWith('-old'))).toBe(false);
  });
});

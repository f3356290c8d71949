// @ts-check
// How `npm start` and the other commands run: `node app/launch.mjs <command> [arguments]`
// runs app/<command>.ts compiled (app/command-build.mjs; compiled again first when a
// source changed), or under tsx when it does not compile, after one line on stderr.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { COMMANDS, INTERNAL_COMMANDS, ROOT, compiledCommands } from './command-build.mjs';

const command = process.argv[2] ?? '';
if (!COMMANDS.includes(command) && !INTERNAL_COMMANDS.includes(command)) {
  process.stderr.write(`error: unknown command "${command}"; one of: ${COMMANDS.join(', ')}\n`);
  process.exit(2);
}
// The command sees its own arguments where it would if it were run directly.
process.argv.splice(2, 1);

const built = await compiledCommands((reason) =>
  process.stderr.write(`Running the TypeScript sources under tsx: compiling them failed (${reason}).\n`),
);
if (built) {
  // Stack traces name the TypeScript files and lines.
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(path.join(built, `${command}.js`)).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(path.join(ROOT, 'app', `${command}.ts`)).href);
}

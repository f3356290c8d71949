import { loadConfig } from '../config/load.ts';
import { prepareEmbeddedTemplate } from '../db/index.ts';
import { ensureClientBuilt } from '../web/client-build.ts';
import { runCommand } from './cli.ts';

/**
 * Run by `npm install` (the root postinstall): builds the page and the template new
 * embedded databases start from, so the first `npm start` does neither. Both are also
 * done on demand, so a failure here only costs that first start the time.
 */
runCommand(async () => {
  if (await ensureClientBuilt(() => console.log('Building the page (web/client/dist)…')))
    console.log('Built the page.');
  let dimensions = 1536;
  try {
    const config = loadConfig();
    if (config.database.url) return;
    dimensions = config.embedding.dimensions;
  } catch {
    // A .env still to be fixed: npm start will say what is wrong; prepare for the default size.
  }
  await prepareEmbeddedTemplate(dimensions).then(
    () => console.log('Prepared the embedded database template (node_modules/.cache/voice-assistant).'),
    (error: unknown) =>
      console.log(
        `Skipped the embedded database template (${(error as Error).message}); the first start makes it.`,
      ),
  );
});

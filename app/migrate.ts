import { loadConfig } from '../config/load.ts';
import { migrate, openDatabase, resetEmbeddings } from '../db/index.ts';
import { parseCommandLine, runCommand } from './cli.ts';

const USAGE = `Usage: npm run db:migrate [-- --reset-embeddings]

Applies pending database migrations (they also run at every start).
  --reset-embeddings  switch the embedding columns to EMBEDDING_DIMENSIONS, dropping
                      stored embeddings; re-ingest documents afterwards.`;

runCommand(async () => {
  const parsed = parseCommandLine(USAGE, { 'reset-embeddings': { type: 'boolean' } }, { positionals: false });
  if (!parsed) return;
  const { values } = parsed;
  const config = loadConfig();
  const reset = values['reset-embeddings'] === true;
  const database = await openDatabase({
    url: config.database.url,
    dataDir: config.database.dataDir,
    embeddingDimensions: config.embedding.dimensions,
    migrate: false,
    checkDimensions: false,
  });
  try {
    const applied = await migrate(database.pool, { embeddingDimensions: config.embedding.dimensions });
    const where =
      database.kind === 'embedded' ? `embedded database in ${config.database.dataDir}` : 'Postgres';
    console.log(
      applied.length > 0
        ? `Applied migrations ${applied.join(', ')} to the ${where}.`
        : `The ${where} is up to date.`,
    );
    if (reset) {
      await resetEmbeddings(database.pool, config.embedding.dimensions);
      console.log(
        `Embedding columns now hold ${config.embedding.dimensions} dimensions; stored embeddings were dropped. ` +
          'Search uses full text until you ingest your documents again.',
      );
    }
  } finally {
    await database.close();
  }
});

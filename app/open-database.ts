import type { Config } from '../config/load.ts';
import { openDatabase, type Database } from '../db/index.ts';

/** Opens the configured database (Postgres or embedded), migrated and checked. */
export function openConfiguredDatabase(config: Config): Promise<Database> {
  return openDatabase({
    url: config.database.url,
    dataDir: config.database.dataDir,
    embeddingDimensions: config.embedding.dimensions,
  });
}

/** A one-line description of where data lives, for start-up messages. */
export function describeDatabase(config: Config, database: Database): string {
  return database.kind === 'embedded'
    ? `embedded database in ${config.database.dataDir} (pgvector ${database.vectorVersion})`
    : `Postgres (pgvector ${database.vectorVersion})`;
}

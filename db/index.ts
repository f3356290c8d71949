/**
 * The database layer: the only place with SQL. Imports nothing of the rest of the app.
 */
export {
  openDatabase,
  prepareEmbeddedTemplate,
  compareVersions,
  checkVectorAvailable,
  type Database,
  type Queryable,
  type OpenDatabaseOptions,
} from './connection.ts';
export { DatabaseSetupError } from './errors.ts';
export { migrate, resetEmbeddings, readMigrations } from './migrate.ts';
export { transaction } from './transaction.ts';
export { reciprocalRankFusion, fuseRankedRows } from './rank-fusion.ts';
export * from './queries/search.ts';
export * from './queries/memories.ts';
export * from './queries/users.ts';
export * from './queries/conversations.ts';
export * from './queries/documents.ts';
export * from './queries/uploads.ts';
export * from './queries/erase.ts';
export {
  DeferredCompaction,
  IMMEDIATE_COMPACTION_BYTES,
  pendingCompactionFile,
} from './deferred-compaction.ts';
export * from './queries/account-links.ts';
export * from './queries/turns.ts';
export * from './queries/orphans.ts';
export * from './queries/voice-choices.ts';

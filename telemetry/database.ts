import type { Database } from '../db/index.ts';
import type { AssistantMetrics } from './metrics.ts';

/**
 * Times every query sent through the database's pool into
 * `assistant_database_query_duration_ms{backend}`. Queries on a client checked out for
 * a transaction are not timed one by one (the transaction's callers are few and known).
 */
export function instrumentQueries(database: Database, metrics: AssistantMetrics): void {
  const pool = database.pool;
  const original = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  const histogram = metrics.queryDuration.labels({ backend: database.kind });
  const timed = (...args: unknown[]): unknown => {
    const start = performance.now();
    const result = original(...args);
    if (result instanceof Promise) {
      return result.finally(() => histogram.observe(performance.now() - start));
    }
    return result;
  };
  pool.query = timed as typeof pool.query;
}

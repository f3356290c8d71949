import type pg from 'pg';
import type { Database } from './connection.ts';

/**
 * The database, used from a child process over Node's IPC channel.
 *
 * The parent process owns the real database: the embedded one (PGlite) may be opened
 * by one process only, and voice conversations run in child processes. A child gets a
 * {@link Database} whose pool sends each query to the parent ({@link remoteDatabase});
 * the parent runs it on its own pool and sends back the result ({@link serveDatabase}).
 * Messages are structured-cloned (fork with `serialization: 'advanced'`), so Dates,
 * Buffers, arrays and objects in parameters and rows arrive intact; an error is sent
 * as its message, name and Postgres fields, which is all callers look at.
 *
 * Only what the app uses is offered: `pool.query`, `pool.connect` (a client with
 * `query` and `release`), `refreshStatistics` and the database's plain fields.
 */

/** A query as pg takes it: text, or a plain config object such as `{ text, values, rowMode, name }`. */
type QueryInput = string | pg.QueryConfig | pg.QueryArrayConfig;

type Envelope = { channel: 'database'; id: number };

/** Messages on the IPC channel that belong to the database; other messages share the channel. */
export type DatabaseRequest = Envelope &
  (
    | {
        type: 'query';
        query: QueryInput;
        values?: unknown[];
        /** The checked-out client to run it on; without one, the pool. */
        clientId?: number;
      }
    /** Checks out a client; the answer is its id (this request's). */
    | { type: 'connect' }
    /** Not answered: the child does not wait for a release. */
    | { type: 'release'; clientId: number; destroy: boolean }
    | { type: 'refreshStatistics' }
  );

/** The answer to the request with the same id: its value, or its error as plain data. */
export type DatabaseReply = Envelope & ({ ok: true; value: unknown } | { ok: false; error: RemoteError });

/** pg's DatabaseError fields that callers read, such as `code === '23505'`, or that help debugging. */
const ERROR_FIELDS = [
  'code',
  'detail',
  'constraint',
  'severity',
  'table',
  'column',
  'schema',
  'hint',
  'position',
  'where',
  'routine',
  'dataType',
  'internalPosition',
  'internalQuery',
  'file',
  'line',
] as const;

/** An error as plain data: the error object itself may not survive structured cloning. */
type RemoteError = { message: string; name: string } & Partial<Record<(typeof ERROR_FIELDS)[number], string>>;

export function isDatabaseRequest(message: unknown): message is DatabaseRequest {
  return isEnvelope(message) && typeof (message as { type?: unknown }).type === 'string';
}

export function isDatabaseReply(message: unknown): message is DatabaseReply {
  return isEnvelope(message) && typeof (message as { ok?: unknown }).ok === 'boolean';
}

function isEnvelope(message: unknown): message is Envelope {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as Envelope).channel === 'database' &&
    typeof (message as Envelope).id === 'number'
  );
}

/** What the child needs to know of the parent's database (plain data, sent once). */
export interface RemoteDatabaseDescription {
  kind: Database['kind'];
  vectorVersion: string;
  iterativeScans: boolean;
  embeddingDimensions: number;
}

export function describeDatabase(database: Database): RemoteDatabaseDescription {
  const { kind, vectorVersion, iterativeScans, embeddingDimensions } = database;
  return { kind, vectorVersion, iterativeScans, embeddingDimensions };
}

/**
 * Parent side: runs one child's requests on `database` and answers through `send`.
 * Make one per child process, and call `releaseAll` when the child is gone.
 */
export function serveDatabase(
  database: Database,
  send: (reply: DatabaseReply) => void,
): {
  /** Handles one request from the child (answers through `send`, never throws). */
  handle(request: DatabaseRequest): void;
  /**
   * The child is gone: clients it had checked out are released as broken (an open
   * transaction is rolled back / the connection discarded), queries in flight are
   * answered into the void.
   */
  releaseAll(): Promise<void>;
} {
  const clients = new Map<number, pg.PoolClient>();
  let childGone = false;

  function reply(message: DatabaseReply): void {
    if (childGone) return;
    try {
      send(message);
    } catch (error) {
      // Most likely a value that cannot be cloned: the child must not wait forever for it.
      if (message.ok) reply({ channel: 'database', id: message.id, ok: false, error: describeError(error) });
    }
  }

  /** Runs `work` and answers with its value or error; `work` may throw or reject. */
  function answer(id: number, work: () => unknown): void {
    new Promise((resolve) => resolve(work())).then(
      (value) => reply({ channel: 'database', id, ok: true, value }),
      (error: unknown) => reply({ channel: 'database', id, ok: false, error: describeError(error) }),
    );
  }

  /**
   * Gives back a client that may be in the middle of a transaction. It is rolled back
   * first, because closing the connection does not end it on the embedded database: PGlite
   * is one backend session shared by every pooled client. For the same reason the embedded
   * client is then released as usual rather than destroyed: all its clients share one
   * connection object, and a destroyed client's late "end" event reaches the next client
   * the pool makes on it, failing that client's first query and mixing up later results.
   */
  async function discard(client: pg.PoolClient): Promise<void> {
    await client.query('rollback').catch(() => undefined);
    client.off('error', ignore);
    client.release(database.kind === 'embedded' ? undefined : true);
  }

  /** Checks out a client, known from then on by the id of the request: the answer. */
  function checkOut(id: number): Promise<number> {
    return database.pool.connect().then((client) => {
      if (childGone) {
        client.release();
      } else {
        // A checked-out client with no listener crashes the process when its connection
        // breaks; the child learns of it from its next query instead.
        client.on('error', ignore);
        clients.set(id, client);
      }
      return id;
    });
  }

  function release(clientId: number, destroy: boolean): void {
    const client = clients.get(clientId);
    if (!client) return;
    clients.delete(clientId);
    if (destroy) {
      void discard(client);
    } else {
      client.off('error', ignore);
      client.release();
    }
  }

  return {
    handle(request) {
      const { id } = request;
      switch (request.type) {
        case 'query':
          return answer(id, () => {
            const queryable = request.clientId === undefined ? database.pool : clients.get(request.clientId);
            if (!queryable) throw new Error('The database client was already released.');
            return queryable.query(request.query, request.values).then(plainResult);
          });
        case 'connect':
          return answer(id, () => checkOut(id));
        case 'release':
          return release(request.clientId, request.destroy);
        case 'refreshStatistics':
          return answer(id, () => database.refreshStatistics());
        default:
          return answer(id, () => {
            throw new Error(`Unknown database request: ${(request as { type: unknown }).type}`);
          });
      }
    },
    async releaseAll() {
      childGone = true;
      const held = [...clients.values()];
      clients.clear();
      await Promise.all(held.map(discard));
    },
  };
}

function ignore(): void {}

/** A query's result as plain data: pg's Result carries its type parsers, which are functions. */
function plainResult(result: pg.QueryResult | pg.QueryResult[]): pg.QueryResult | pg.QueryResult[] {
  // Several statements in one text (simple query protocol) give one result each.
  if (Array.isArray(result)) return result.map((each) => plainResult(each) as pg.QueryResult);
  const { command, rowCount, oid, rows } = result;
  const fields = result.fields.map(
    ({ name, tableID, columnID, dataTypeID, dataTypeSize, dataTypeModifier, format }) => ({
      name,
      tableID,
      columnID,
      dataTypeID,
      dataTypeSize,
      dataTypeModifier,
      format,
    }),
  );
  return { command, rowCount, oid, fields, rows };
}

function describeError(error: unknown): RemoteError {
  if (!(error instanceof Error)) return { message: String(error), name: 'Error' };
  const described: RemoteError = { message: error.message, name: error.name };
  for (const field of ERROR_FIELDS) {
    const value = (error as unknown as Record<string, unknown>)[field];
    if (typeof value === 'string') described[field] = value;
  }
  return described;
}

/** An Error in the child that callers can treat as the parent's: same message, name and pg fields. */
function reviveError(described: RemoteError): Error {
  const { message, ...fields } = described;
  return Object.assign(new Error(message), fields);
}

/**
 * Child side: a {@link Database} whose queries run in the parent, sending requests
 * through `send`. Pass the parent's replies to `handle`.
 */
export function remoteDatabase(
  description: RemoteDatabaseDescription,
  send: (request: DatabaseRequest) => void,
): {
  database: Database;
  handle(reply: DatabaseReply): void;
  /** The parent is gone: every pending request rejects with `error`, later ones reject at once. */
  failAll(error: Error): void;
} {
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 1;
  let failure: Error | undefined;

  /** Sends a request and waits for its answer. `send` may throw, e.g. for a value that cannot be cloned. */
  function call<T>(request: DistributiveOmit<DatabaseRequest, 'channel' | 'id'>): Promise<T> {
    return new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      const id = nextId++;
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      try {
        send({ ...request, channel: 'database', id } as DatabaseRequest);
      } catch (error) {
        pending.delete(id);
        reject(error);
      }
    });
  }

  async function query(queryable: { clientId?: number }, query: QueryInput, values?: unknown[]) {
    const result = await call<pg.QueryResult | pg.QueryResult[]>({
      type: 'query',
      query,
      values,
      ...queryable,
    });
    for (const each of Array.isArray(result) ? result : [result]) each.rows.forEach(restoreBuffers);
    return result;
  }

  async function connect() {
    const clientId = await call<number>({ type: 'connect' });
    let released = false;
    return {
      query: (text: QueryInput, values?: unknown[]) => query({ clientId }, text, values),
      /** Like pg's: a truthy argument means the client is broken and is not reused. */
      release(error?: Error | boolean) {
        if (released)
          throw new Error('Release called on client which has already been released to the pool.');
        released = true;
        // Once the parent is gone, its releaseAll has given the client back.
        if (failure) return;
        try {
          send({ channel: 'database', id: nextId++, type: 'release', clientId, destroy: Boolean(error) });
        } catch {
          // The channel is closing: the parent's releaseAll gives the client back.
        }
      },
    };
  }

  const pool = {
    query: (text: QueryInput, values?: unknown[]) => query({}, text, values),
    connect,
    // The parent owns the pool: its events and its end are none of the child's business.
    on: () => pool,
    end: () => Promise.resolve(),
  };

  return {
    database: {
      ...description,
      pool: pool as unknown as pg.Pool,
      refreshStatistics: () => call<string[]>({ type: 'refreshStatistics' }),
      // The parent owns the database and closes it.
      close: () => Promise.resolve(),
    },
    handle(reply) {
      const waiting = pending.get(reply.id);
      if (!waiting) return;
      pending.delete(reply.id);
      if (reply.ok) waiting.resolve(reply.value);
      else waiting.reject(reviveError(reply.error));
    },
    failAll(error) {
      failure = error;
      for (const waiting of pending.values()) waiting.reject(error);
      pending.clear();
    },
  };
}

/** Omit over each member of a union, keeping it a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * Makes bytea values Buffers again if the channel delivered them as plain Uint8Arrays
 * (Node's advanced serialization keeps Buffers; other structured clones do not).
 */
function restoreBuffers(row: Record<string, unknown> | unknown[]): void {
  const values = row as Record<string, unknown>;
  for (const key of Object.keys(values)) {
    const value = values[key];
    if (value instanceof Uint8Array && !Buffer.isBuffer(value))
      values[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
}

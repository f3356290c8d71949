import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../test/support/database.ts';
import type { Database } from './connection.ts';
import { findUserByIdentity, resolveUser, transaction } from './index.ts';
import {
  describeDatabase,
  isDatabaseReply,
  isDatabaseRequest,
  remoteDatabase,
  serveDatabase,
  type DatabaseReply,
  type DatabaseRequest,
} from './remote-database.ts';

/** What `serialization: 'advanced'` does to every message on the IPC channel. */
const overIpc = <T>(message: T): T => v8.deserialize(v8.serialize(message)) as T;

/**
 * A parent and a child wired back to back in this process: each message is cloned as
 * advanced IPC serialization clones it, and delivered later, as IPC delivers it.
 */
function wire(database: Database) {
  const server = serveDatabase(database, (reply: DatabaseReply) => {
    const delivered = overIpc(reply);
    setImmediate(() => remote.handle(delivered));
  });
  const remote = remoteDatabase(overIpc(describeDatabase(database)), (request: DatabaseRequest) => {
    const delivered = overIpc(request);
    setImmediate(() => server.handle(delivered));
  });
  return { server, remote, child: remote.database };
}

describe('the database over IPC', () => {
  let test: TestDatabase;
  let parent: Database;

  beforeAll(async () => {
    test = await createTestDatabase('embedded', 64);
    parent = test.database;
    await parent.pool.query(
      `create table remote_rows (id serial primary key, name text not null unique,
         created_at timestamptz, details jsonb, bytes bytea)`,
    );
  });
  afterAll(() => test?.cleanup());

  const countRows = async (name: string) =>
    (await parent.pool.query('select count(*)::int as count from remote_rows where name = $1', [name]))
      .rows[0].count as number;

  it('describes the database and answers a query with parameters, rows as pg parsed them', async () => {
    const { child } = wire(parent);
    expect(child.kind).toBe('embedded');
    expect(child.vectorVersion).toBe(parent.vectorVersion);
    expect(child.iterativeScans).toBe(parent.iterativeScans);
    expect(child.embeddingDimensions).toBe(64);

    const createdAt = new Date('2024-01-02T03:04:05.678Z');
    const details = { spoken: true, tags: ['a', 'b'], nested: { n: 1 } };
    const bytes = Buffer.from([0, 1, 2, 255]);
    const result = await child.pool.query(
      `insert into remote_rows (name, created_at, details, bytes) values ($1, $2, $3, $4)
       returning name, created_at, details, bytes`,
      ['first', createdAt, details, bytes],
    );
    expect(result.command).toBe('INSERT');
    expect(result.rowCount).toBe(1);
    expect(result.fields.map((field) => field.name)).toEqual(['name', 'created_at', 'details', 'bytes']);
    expect(result.fields[1]?.dataTypeID).toBe(1184); // timestamptz
    const row = result.rows[0];
    expect(row.name).toBe('first');
    expect(row.created_at).toBeInstanceOf(Date);
    expect(row.created_at.getTime()).toBe(createdAt.getTime());
    expect(row.details).toEqual(details);
    expect(Buffer.isBuffer(row.bytes)).toBe(true);
    expect(row.bytes.equals(bytes)).toBe(true);
  });

  it('takes a query config object, rowMode included', async () => {
    const { child } = wire(parent);
    const result = await child.pool.query({
      text: 'select $1::int as number, $2::text as word',
      values: [7, 'seven'],
      rowMode: 'array',
    });
    expect(result.rows).toEqual([[7, 'seven']]);
  });

  it("rejects in the child with the parent's error: message, name and Postgres fields", async () => {
    const { child } = wire(parent);
    const insert = 'insert into remote_rows (name) values ($1)';
    await parent.pool.query(insert, ['taken']);
    const inParent = await parent.pool.query(insert, ['taken']).catch((error: unknown) => error as Error);
    const inChild = await child.pool.query(insert, ['taken']).catch((error: unknown) => error as Error);
    expect(inChild).toBeInstanceOf(Error);
    expect(inChild).toMatchObject({ code: '23505', constraint: 'remote_rows_name_key' });
    for (const field of ['message', 'name', 'code', 'detail', 'constraint', 'severity', 'table', 'schema'])
      expect((inChild as unknown as Record<string, unknown>)[field]).toBe(
        (inParent as unknown as Record<string, unknown>)[field],
      );
  });

  it('runs transactions on one checked-out client: commits, and rolls back on error', async () => {
    const { child } = wire(parent);
    const userId = await resolveUser(child.pool, { kind: 'web', value: 'remote-browser' });
    expect(await findUserByIdentity(parent.pool, { kind: 'web', value: 'remote-browser' })).toBe(userId);

    const failed = await transaction(child.pool, async (client) => {
      await client.query('insert into remote_rows (name) values ($1)', ['rolled back']);
      const { rows } = await client.query('select count(*)::int as count from remote_rows where name = $1', [
        'rolled back',
      ]);
      expect(rows[0].count).toBe(1);
      throw new Error('changed my mind');
    }).catch((error: unknown) => error as Error);
    expect(failed.message).toBe('changed my mind');
    expect(await countRows('rolled back')).toBe(0);
  });

  it('releaseAll rolls back and gives back a client the child left in a transaction', async () => {
    const { child, server } = wire(parent);
    const client = await child.pool.connect();
    await client.query('begin');
    await client.query('insert into remote_rows (name) values ($1)', ['orphaned']);
    // The embedded pool has one client, which the child holds: this waits for it.
    const waiting = countRows('orphaned');
    await server.releaseAll();
    expect(await waiting).toBe(0);
    expect(await countRows('orphaned')).toBe(0);
    expect((await parent.pool.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    // The child's own late release changes nothing.
    client.release();
    expect((await parent.pool.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
  });

  it('a client released as broken is rolled back, and the pool keeps answering correctly', async () => {
    const { child } = wire(parent);
    const client = await child.pool.connect();
    await client.query('begin');
    await client.query('insert into remote_rows (name) values ($1)', ['broken']);
    // A query that asks for a client the moment the parent gives this one back: had the
    // embedded client been destroyed, this query would get a new client on the shared
    // connection that the old one's late "end" event then breaks.
    const released = new Promise<unknown[]>((resolve, reject) =>
      parent.pool.once('release', () =>
        queueMicrotask(() => parent.pool.query('select 1 as one').then(({ rows }) => resolve(rows), reject)),
      ),
    );
    client.release(new Error('broken'));
    expect(() => client.release()).toThrow(/already been released/);
    expect(await released).toEqual([{ one: 1 }]);
    for (const number of [2, 3, 4])
      expect((await parent.pool.query('select $1::int as number', [number])).rows).toEqual([{ number }]);
    expect(await countRows('broken')).toBe(0);
  });

  it('failAll rejects pending requests and every later one, without sending', async () => {
    const send = vi.fn();
    const remote = remoteDatabase(describeDatabase(parent), send);
    const pending = remote.database.pool.query('select 1');
    expect(send).toHaveBeenCalledTimes(1);
    const gone = new Error('the parent process is gone');
    remote.failAll(gone);
    await expect(pending).rejects.toBe(gone);
    await expect(remote.database.pool.query('select 1')).rejects.toBe(gone);
    await expect(remote.database.refreshStatistics()).rejects.toBe(gone);
    expect(send).toHaveBeenCalledTimes(1);
    await expect(remote.database.close()).resolves.toBeUndefined();
  });

  it("forwards refreshStatistics to the parent's database", async () => {
    const refreshStatistics = vi.fn(() => parent.refreshStatistics());
    const { child } = wire({ ...parent, refreshStatistics });
    const analyzed = await child.refreshStatistics();
    expect(refreshStatistics).toHaveBeenCalledOnce();
    expect(analyzed).toEqual(await refreshStatistics.mock.results[0]?.value);
  });

  it('tells its messages apart from others on the channel', () => {
    expect(isDatabaseRequest({ channel: 'database', id: 1, type: 'connect' })).toBe(true);
    expect(isDatabaseReply({ channel: 'database', id: 1, ok: true, value: 1 })).toBe(true);
    expect(isDatabaseRequest({ channel: 'database', id: 1, ok: true, value: 1 })).toBe(false);
    expect(isDatabaseReply({ channel: 'conversation', id: 1, ok: true })).toBe(false);
    expect(isDatabaseRequest('database')).toBe(false);
  });

  it('serves a real child process forked with advanced serialization', async () => {
    const fixture = fileURLToPath(new URL('./remote-database.fixture.ts', import.meta.url));
    const child = fork(fixture, { execArgv: ['--import', 'tsx'], serialization: 'advanced' });
    const exited = once(child, 'exit');
    const server = serveDatabase(parent, (reply) => child.send(reply));
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
      child.on('message', (message) =>
        isDatabaseRequest(message) ? server.handle(message) : resolve(message as Record<string, unknown>),
      );
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`The child exited (${code}) without an answer.`)));
    });
    child.send({ channel: 'test', description: describeDatabase(parent) });
    const { kind, rows, error } = await answer;
    expect(error).toBeUndefined();
    expect(kind).toBe('embedded');
    expect(rows).toEqual([
      { greeting: 'hello', at: new Date('2024-05-06T07:08:09Z'), bytes: Buffer.from('child') },
    ]);
    expect(await exited).toEqual([0, null]);
    await server.releaseAll();
  });
});

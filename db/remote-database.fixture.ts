/**
 * A child process for remote-database.test.ts: given the parent's database, runs one
 * query through it over the IPC channel and sends back the rows, then disconnects.
 */
import { isDatabaseReply, remoteDatabase, type RemoteDatabaseDescription } from './remote-database.ts';

const send = (message: unknown) => void process.send?.(message);
let remote: ReturnType<typeof remoteDatabase> | undefined;

process.on('message', (message: unknown) => {
  if (isDatabaseReply(message)) return remote?.handle(message);
  const { description } = message as { description: RemoteDatabaseDescription };
  remote = remoteDatabase(description, send);
  remote.database.pool
    .query('select $1::text as greeting, $2::timestamptz as at, $3::bytea as bytes', [
      'hello',
      new Date('2024-05-06T07:08:09Z'),
      Buffer.from('child'),
    ])
    .then(
      ({ rows }) => ({ channel: 'test', kind: remote?.database.kind, rows }),
      (error: Error) => ({ channel: 'test', error: error.message }),
    )
    // Disconnecting once the answer is written lets the process exit.
    .then((answer) => process.send?.(answer, () => process.disconnect()));
});

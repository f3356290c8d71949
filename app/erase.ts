import { loadConfig } from '../config/load.ts';
import { eraseUser, findUserByIdentity } from '../db/index.ts';
import { parseCommandLine, parseIdentityArgument, runCommand, UsageError } from './cli.ts';
import { openConfiguredDatabase } from './open-database.ts';

const USAGE = `Usage: npm run erase -- --user <id> [--json]

Erases everything stored about one person: identities, conversations, transcripts,
memories, their documents and uploaded files. Prints a receipt with the counts.
  --user <id>   the user's id (a UUID), or an identity: phone:+15551234567, web:<browser id>
  --json        print the receipt as JSON`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

runCommand(async () => {
  const parsed = parseCommandLine(
    USAGE,
    { user: { type: 'string' }, json: { type: 'boolean' } },
    { positionals: false },
  );
  if (!parsed) return;
  const { values } = parsed;
  if (!values.user) throw new UsageError('Missing --user.', USAGE);

  const config = loadConfig();
  const database = await openConfiguredDatabase(config);
  try {
    const userId = await resolveUserArgument(database.pool, values.user);
    const receipt = await eraseUser(
      database.pool,
      userId ?? '00000000-0000-0000-0000-000000000000',
      config.database.uploadsDirectory,
    );
    if (values.json) {
      console.log(JSON.stringify({ ...receipt, userFound: userId !== undefined }));
    } else {
      console.log(
        userId ? `Erased user ${values.user}.` : `No user ${values.user} was found; nothing to erase.`,
      );
      console.log(`Receipt ${receipt.id} at ${receipt.erasedAt.toISOString()}`);
      for (const [table, count] of Object.entries(receipt.rowsDeleted))
        console.log(`  ${table.padEnd(16)} ${count}`);
      console.log(`  ${'files'.padEnd(16)} ${receipt.filesDeleted}`);
      if (receipt.filesNotDeleted.length > 0)
        console.log(`  could not delete: ${receipt.filesNotDeleted.join(', ')}`);
    }
    return receipt.filesNotDeleted.length > 0 ? 1 : 0;
  } finally {
    await database.close();
  }
});

async function resolveUserArgument(
  pool: Parameters<typeof findUserByIdentity>[0],
  argument: string,
): Promise<string | undefined> {
  if (UUID.test(argument)) {
    const { rows } = await pool.query('select id from users where id = $1', [argument]);
    return rows[0] ? argument : undefined;
  }
  return findUserByIdentity(pool, parseIdentityArgument(argument, USAGE));
}

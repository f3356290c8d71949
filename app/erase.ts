import { loadConfig } from '../config/load.ts';
import { findReferencedUser, USER_REFERENCE_FORMS } from '../agent/user-reference.ts';
import { eraseUser } from '../db/index.ts';
import { parseCommandLine, parseUserArgument, runCommand, UsageError } from './cli.ts';
import { openConfiguredDatabase } from './open-database.ts';

const USAGE = `Usage: npm run erase -- --user <id> [--json]

Erases everything stored about one person: identities, conversations, transcripts,
memories, their documents and uploaded files. Prints a receipt with the counts.
  --user <id>   ${USER_REFERENCE_FORMS}
  --json        print the receipt as JSON`;

runCommand(async () => {
  const parsed = parseCommandLine(
    USAGE,
    { user: { type: 'string' }, json: { type: 'boolean' } },
    { positionals: false },
  );
  if (!parsed) return;
  const { values } = parsed;
  if (values.user === undefined) throw new UsageError('Missing --user.', USAGE);
  const user = parseUserArgument(values.user, USAGE);

  const config = loadConfig();
  const database = await openConfiguredDatabase(config);
  try {
    const userId = await findReferencedUser(database.pool, user, { create: false });
    const receipt = await eraseUser(
      database,
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

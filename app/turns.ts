import { loadConfig } from '../config/load.ts';
import { listRecentTurns, listTurns } from '../db/index.ts';
import { parseCommandLine, runCommand, UsageError } from './cli.ts';
import { openConfiguredDatabase } from './open-database.ts';
import { formatTurnTable } from './turn-table.ts';

const USAGE = `Usage: npm run turns -- [--conversation <id> | --last <n>] [--json]

Shows where the time of recent answers went: each turn's stage timings in ms
(end-of-turn decision, transcription, retrieval, first token, tools, first audio,
playout), voice-to-voice, and the sources it retrieved and cited.
  --conversation <id>  the turns of one conversation (its id, as in the logs and traces)
  --last <n>           the latest n turns of any conversation (default 10)
  --json               print the turns as JSON (the stored stages, ms from the end of speech)`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

runCommand(async () => {
  const parsed = parseCommandLine(
    USAGE,
    { conversation: { type: 'string' }, last: { type: 'string' }, json: { type: 'boolean' } },
    { positionals: false },
  );
  if (!parsed) return;
  const { values } = parsed;
  if (values.conversation !== undefined && values.last !== undefined)
    throw new UsageError('Give --conversation or --last, not both.', USAGE);
  if (values.conversation !== undefined && !UUID.test(values.conversation))
    throw new UsageError(
      `--conversation must be a conversation id (a UUID), not "${values.conversation}".`,
      USAGE,
    );
  const last = values.last === undefined ? 10 : Number(values.last);
  if (!Number.isInteger(last) || last < 1 || last > 10_000)
    throw new UsageError(`--last must be a whole number from 1 to 10000, not "${values.last}".`, USAGE);

  const config = loadConfig();
  const database = await openConfiguredDatabase(config);
  try {
    const turns =
      values.conversation !== undefined
        ? await listTurns(database.pool, values.conversation)
        : await listRecentTurns(database.pool, last);
    console.log(values.json ? JSON.stringify(turns, null, 2) : formatTurnTable(turns));
  } finally {
    await database.close();
  }
});

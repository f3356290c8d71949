import { loadConfig } from '../config/load.ts';
import { citationLabel } from '../protocol/index.ts';
import { askOnce } from '../agent/text-session.ts';
import { createLanguageModel } from '../agent/providers.ts';
import { createConfiguredEmbedder } from '../agent/provider-settings.ts';
import { describeUserReference, findReferencedUser, UserReferenceError } from '../agent/user-reference.ts';
import { parseCommandLine, parseUserArgument, runCommand, UsageError } from './cli.ts';
import { openConfiguredDatabase } from './open-database.ts';

const USAGE = `Usage: npm run ask -- [--user <id>] [--json] "<question>"

Asks one question through the same Assistant as a voice conversation (the user's
documents, memories and tools), and prints the answer and its citations.
  --user <id>  a user id (UUID), web:<id> or phone:+15551234567 (default web:cli);
               a new web: or phone: user is created on first use
  --json       print { "answer", "citations": [{ "documentId", "title", "page" }], "turnId" }`;

runCommand(async () => {
  const parsed = parseCommandLine(
    USAGE,
    { user: { type: 'string' }, json: { type: 'boolean' } },
    { positionals: true },
  );
  if (!parsed) return;
  const question = parsed.positionals.join(' ').trim();
  if (question === '') throw new UsageError('Missing the question.', USAGE);
  const user = parseUserArgument(parsed.values.user ?? 'web:cli', USAGE);

  const config = loadConfig();
  createLanguageModel(config); // fails early, naming the variable, when no model is configured
  const database = await openConfiguredDatabase(config);
  try {
    const userId = await findReferencedUser(database.pool, user, { create: true });
    if (userId === undefined) throw new UserReferenceError(`There is no ${describeUserReference(user)}.`);
    const result = await askOnce(
      { config, database, embedder: createConfiguredEmbedder(config), userId },
      question,
    );
    if (parsed.values.json) {
      console.log(
        JSON.stringify({ answer: result.answer, citations: result.citations, turnId: result.turnId }),
      );
    } else {
      console.log(result.answer);
      for (const citation of result.citations) {
        console.log(`  [${citationLabel(citation)}]`);
      }
    }
  } finally {
    await database.close();
  }
});

import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.ts';
import { askOnce } from '../agent/text-session.ts';
import { createConfiguredEmbedder, createLanguageModel } from '../agent/providers.ts';
import { resolveUser, type Identity } from '../db/index.ts';
import { runCommand, UsageError } from './cli.ts';
import { openConfiguredDatabase } from './open-database.ts';

const USAGE = `Usage: npm run ask -- [--user <id>] [--json] "<question>"

Asks one question through the same Assistant as a voice conversation (the user's
documents, memories and tools), and prints the answer and its citations.
  --user <id>  web:<browser id> or phone:+15551234567 (default web:cli)
  --json       print { "answer", "citations": [{ "documentId", "title", "page" }], "turnId" }`;

runCommand(async () => {
  let parsed: { values: { user?: string; json?: boolean; help?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { user: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw new UsageError((error as Error).message, USAGE);
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return;
  }
  const question = parsed.positionals.join(' ').trim();
  if (question === '') throw new UsageError('Missing the question.', USAGE);
  const identity = parseIdentity(parsed.values.user ?? 'web:cli');

  const config = loadConfig();
  createLanguageModel(config); // fails early, naming the variable, when no model is configured
  const database = await openConfiguredDatabase(config);
  try {
    const userId = await resolveUser(database.pool, identity);
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
        console.log(`  [${citation.title}${citation.page === null ? '' : `, page ${citation.page}`}]`);
      }
    }
  } finally {
    await database.close();
  }
});

function parseIdentity(value: string): Identity {
  const match = /^(web|phone):(.+)$/.exec(value);
  if (!match)
    throw new UsageError(`--user must look like web:<id> or phone:<number>, not "${value}".`, USAGE);
  return { kind: match[1] as Identity['kind'], value: match[2] as string };
}

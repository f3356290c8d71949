import { llm } from '@livekit/agents';
import { z } from 'zod';
import type { Knowledge } from './knowledge.ts';
import type { NamedTools } from './phone-call.ts';
import { askedToForget, contentWords, ungroundedWords, type UserTurn } from './user-words.ts';

/** Longest fact kept, in characters. */
const MAX_FACT_CHARACTERS = 300;

/**
 * The `remember` and `forget` tools. Both act only on what the user said in the turn
 * being answered (`turn`): a fact is kept only when its words are the user's, and a
 * memory is forgotten only when the user asked to forget in this turn and the memory
 * shares words with what they described. So text from a document, a memory or a tool
 * result cannot make the assistant store or delete anything, whatever the model does.
 */
export function memoryTools(knowledge: Knowledge, conversationId: string, turn: UserTurn): NamedTools {
  return {
    remember: llm.tool({
      description:
        'Remember a fact about the user for future conversations, when they ask you to. ' +
        'Only what the user said in their latest message, in their own words.',
      parameters: z.object({
        fact: z.string().describe("The fact, as one short sentence using the user's own words"),
      }),
      execute: async ({ fact }) => {
        const missing = ungroundedWords(fact, turn.text);
        if (fact.length > MAX_FACT_CHARACTERS || contentWords(fact).length === 0 || missing.length > 0) {
          return (
            'Not saved: a memory must be something the user said in their latest message, in their own words. ' +
            'If they asked you to remember something, call remember again with their words; otherwise tell them ' +
            'you only remember what they ask you to.'
          );
        }
        await knowledge.remember(fact, 'fact', conversationId);
        return `Remembered: ${fact}`;
      },
    }),
    forget: llm.tool({
      description:
        'Forget a fact you remembered about the user, when they ask you to in their latest message.',
      parameters: z.object({
        fact: z.string().describe("What to forget, in a few of the user's own words"),
      }),
      execute: async ({ fact }) => {
        if (!askedToForget(turn.text)) {
          return 'Nothing was forgotten: the user did not ask to forget anything in their latest message.';
        }
        const wanted = new Set(contentWords(fact));
        if (wanted.size === 0 || ungroundedWords(fact, turn.text).length > 0) {
          return "Nothing was forgotten: describe what to forget with the user's own words from their latest message.";
        }
        const forgotten = await knowledge.forget(fact, (memory) =>
          contentWords(memory.text).some((word) => wanted.has(word)),
        );
        return forgotten.length > 0 ? `Forgot: ${forgotten.join('; ')}` : 'No matching memory was found.';
      },
    }),
  };
}

import { llm } from '@livekit/agents';
import type { Logger } from 'pino';
import { SUMMARY_INSTRUCTIONS } from './instructions.ts';
import { APP_WRITTEN } from './user-words.ts';

/** Longest transcript sent for summarizing, in characters (the end of long conversations). */
const MAX_TRANSCRIPT_CHARACTERS = 12_000;

/**
 * A short summary of a finished conversation, kept as a memory for later ones.
 * Undefined when there was nothing worth keeping or the model failed (logged).
 *
 * Only the user's own messages are summarized: the assistant's answers quote
 * documents and tool results, and a summary of them would turn document text into
 * a memory ("laundering" an injected instruction into later conversations). Upload
 * notices the app wrote in the user's name are left out for the same reason.
 */
export async function summarizeConversation(
  model: llm.LLM,
  history: llm.ChatContext,
  logger?: Logger,
): Promise<string | undefined> {
  const lines = history.items
    .filter(
      (item): item is llm.ChatMessage =>
        item.type === 'message' && item.role === 'user' && item.extra[APP_WRITTEN] !== true,
    )
    .map((message) => message.textContent?.trim() ?? '')
    .filter((text) => text !== '')
    .map((text) => `User: ${text}`);
  if (lines.length === 0) return undefined;
  const transcript = lines.join('\n').slice(-MAX_TRANSCRIPT_CHARACTERS);
  const chatCtx = new llm.ChatContext();
  chatCtx.addMessage({ role: 'system', content: SUMMARY_INSTRUCTIONS });
  chatCtx.addMessage({ role: 'user', content: transcript });
  try {
    let text = '';
    const stream = model.chat({
      chatCtx,
      connOptions: { maxRetry: 1, retryIntervalMs: 250, timeoutMs: 15_000 },
    });
    for await (const chunk of stream) text += chunk.delta?.content ?? '';
    text = text.trim();
    return text === '' || text.toUpperCase().startsWith('NOTHING') ? undefined : text;
  } catch (error) {
    logger?.warn({ err: error }, 'could not summarize the conversation');
    return undefined;
  }
}

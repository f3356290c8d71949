import { expect } from 'vitest';
import { REFERENCE_NOTE, SEARCH_NOTE } from '../../agent/reference-context.ts';
import { messageText, type ChatCompletionBody, type ChatMessage } from '../fakes/openai-chat.ts';

/**
 * Checks on what a model received, for the prompt-injection tests: where a marked
 * payload may appear, and that the reference container is intact.
 */

/** Where a payload's text may legitimately be in a request besides the data container. */
export interface PayloadPlaces {
  /** The user's own words of an earlier turn (a transcript payload). */
  userTurns?: boolean;
  /** The app's notice of an uploaded image, which names the file. */
  uploadNotice?: boolean;
}

const UPLOAD_NOTICE = '(I uploaded an image named';
const PASSAGE_KEYS = ['id', 'page', 'text', 'title'];
const MEMORY_KEYS = ['kind', 'saved', 'text'];

/** Every text a message carries: its content and its tool calls' names and arguments. */
function everything(message: ChatMessage): string {
  const calls = (message.tool_calls ?? []).map((call) => `${call.function.name} ${call.function.arguments}`);
  return [messageText(message), ...calls].join('\n');
}

/**
 * Asserts that a tool message is one intact reference container: the whole content is
 * one JSON object with the fixed note, passages with our ids, and memories; untrusted
 * text only inside `text` and `title` strings. Returns the untrusted strings it holds.
 */
export function expectIntactContainer(content: string): string[] {
  let parsed: unknown;
  expect(
    () => (parsed = JSON.parse(content)),
    `not one JSON document: ${content.slice(0, 200)}`,
  ).not.toThrow();
  const container = parsed as { note?: unknown; passages?: unknown; memories?: unknown };
  expect(Object.keys(container).every((key) => ['note', 'passages', 'memories'].includes(key))).toBe(true);
  expect([REFERENCE_NOTE, SEARCH_NOTE]).toContain(container.note);
  const untrusted: string[] = [];
  const passages = (container.passages ?? []) as Record<string, unknown>[];
  const ids = passages.map((passage) => passage.id);
  expect(new Set(ids).size, 'passage ids are unique').toBe(ids.length);
  for (const passage of passages) {
    expect(Object.keys(passage).sort()).toEqual(PASSAGE_KEYS);
    expect(passage.id).toMatch(/^S\d+$/);
    expect(typeof passage.text).toBe('string');
    untrusted.push(String(passage.text), String(passage.title));
  }
  // Our ids: S1, S2... for the reference before a message, S101... for searches.
  const numbers = ids.map((id) => Number(String(id).slice(1)));
  const start = container.note === REFERENCE_NOTE ? 1 : (numbers[0] ?? 101);
  expect(numbers).toEqual(numbers.map((_, index) => start + index));
  for (const memory of (container.memories ?? []) as Record<string, unknown>[]) {
    expect(Object.keys(memory).sort()).toEqual(MEMORY_KEYS);
    untrusted.push(String(memory.text));
  }
  return untrusted;
}

/**
 * Asserts that `marker` reached the model in `bodies` only as data: never in a system
 * message; in tool messages only inside an intact container's untrusted strings; in
 * assistant messages only as the model's own tool-call arguments; in user messages
 * only where `places` allows. Returns how many messages carried it inside a container.
 */
export function expectOnlyAsData(
  bodies: readonly ChatCompletionBody[],
  marker: string,
  places: PayloadPlaces,
): number {
  let contained = 0;
  for (const body of bodies) {
    for (const message of body.messages) {
      const text = everything(message);
      if (message.role === 'tool') {
        if (!text.trimStart().startsWith('{')) {
          expect(text, 'a tool result that is not a container').not.toContain(marker);
          continue;
        }
        const untrusted = expectIntactContainer(messageText(message));
        if (!text.includes(marker)) continue;
        expect(untrusted.some((value) => value.includes(marker))).toBe(true);
        contained += 1;
        continue;
      }
      if (!text.includes(marker)) continue;
      if (message.role === 'assistant') {
        expect(messageText(message), 'assistant text repeating the payload').not.toContain(marker);
      } else if (message.role === 'user') {
        const notice = messageText(message).startsWith(UPLOAD_NOTICE);
        expect(notice ? places.uploadNotice : places.userTurns, `payload in a user message: ${text}`).toBe(
          true,
        );
      } else {
        throw new Error(`payload ${marker} in a ${message.role} message: ${text.slice(0, 300)}`);
      }
    }
  }
  return contained;
}

/** The tool calls the model made in `bodies` (from the assistant messages of later requests), by id. */
export function toolCallsMade(
  bodies: readonly ChatCompletionBody[],
): Map<string, { name: string; output?: string }> {
  const calls = new Map<string, { name: string; output?: string }>();
  for (const body of bodies) {
    for (const message of body.messages) {
      for (const call of message.tool_calls ?? []) {
        if (call.id.startsWith('reference_')) continue;
        calls.set(call.id, { ...calls.get(call.id), name: call.function.name });
      }
      if (message.role === 'tool' && message.tool_call_id && calls.has(message.tool_call_id)) {
        const call = calls.get(message.tool_call_id);
        if (call) call.output = messageText(message);
      }
    }
  }
  return calls;
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinkCode, findUserByIdentity, resolveUser } from '../db/index.ts';
import { messageText } from '../test/fakes/openai-chat.ts';
import { VoiceHarness, waitFor } from '../test/support/voice-harness.ts';

/** Eight-digit codes other than `code`, as a caller might read them out: "1234 5678". */
function otherCodes(code: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => {
    const value = String((Number(code) + 1 + index * 7919) % 100_000_000).padStart(8, '0');
    return `${value.slice(0, 4)} ${value.slice(4)}`;
  });
}

describe('guessing link codes on the phone', () => {
  let harness: VoiceHarness;
  let replies = 0;
  const call = { transferToHuman: async () => undefined, hangUp: async () => undefined };

  beforeAll(async () => {
    harness = await VoiceHarness.start();
    // A model that tries every code the caller said, all in one turn.
    harness.openai.chatResponder = (request) => {
      if (request.toolResult !== undefined) {
        replies += 1;
        return { text: 'Okay.' };
      }
      const codes = request.lastUserText.match(/\d{4} \d{4}/g) ?? [];
      return { toolCalls: codes.map((code) => ({ name: 'link_web_account', arguments: { code } })) };
    };
  });
  afterAll(() => harness?.close());

  /** One caller turn on a fresh call; returns what the tool told the model for each code. */
  async function callAndSay(userId: string, text: string): Promise<string[]> {
    const { voice } = await harness.startSession(userId, { channel: 'phone', call });
    const first = harness.openai.chatBodies().length;
    const before = replies;
    voice.sendText(text);
    await waitFor(() => replies > before, 20_000, 'the answer after the tries');
    await voice.close();
    const followUp = harness.openai
      .chatBodies()
      .slice(first)
      .find((body) => body.messages.at(-1)?.role === 'tool');
    return (followUp?.messages ?? []).filter((message) => message.role === 'tool').map(messageText);
  }

  it('stops a call after three wrong codes and a caller after five, across calls, and says so', async () => {
    const pool = harness.test.database.pool;
    const victim = await resolveUser(pool, { kind: 'web', value: 'victim-browser' });
    const { code } = await createLinkCode(pool, victim);
    const caller = await resolveUser(pool, { kind: 'phone', value: '+15550004444' });
    const [firstCall, secondCall] = [otherCodes(code, 10), otherCodes(String(Number(code) + 500_000), 4)];

    // A thousand-guess turn, cut short: three tries, then the call is locked.
    const first = await callAndSay(caller, `link my account, code ${firstCall.join(' or ')}`);
    expect(first).toHaveLength(10);
    expect(first.filter((text) => text.includes('wrong or expired'))).toHaveLength(3);
    expect(first.filter((text) => text.includes('locked for the rest of this call'))).toHaveLength(7);

    // A new call does not start afresh: two more tries, then the number is locked for a while.
    const second = await callAndSay(caller, `code ${secondCall.join(' or ')}`);
    expect(second.filter((text) => text.includes('wrong or expired'))).toHaveLength(2);
    const locked = second.filter((text) => text.includes('locked for this number'));
    expect(locked).toHaveLength(2);
    expect(locked[0]).toMatch(/try again in 1[12] minutes/);

    // Even the right code is refused while locked.
    const third = await callAndSay(caller, `code ${code.slice(0, 4)} ${code.slice(4)}`);
    expect(third).toHaveLength(1);
    expect(third[0]).toContain('locked for this number');
    expect(await findUserByIdentity(pool, { kind: 'web', value: 'victim-browser' })).toBe(victim);
    const { rows } = await pool.query<{ failures: number }>(
      'select sum(link_failures)::int as failures from conversations where user_id = $1',
      [caller],
    );
    expect(rows[0]?.failures).toBe(5);
  });

  it('refuses a code the caller did not say, without spending a try', async () => {
    const pool = harness.test.database.pool;
    const victim = await resolveUser(pool, { kind: 'web', value: 'victim-two' });
    const { code } = await createLinkCode(pool, victim);
    const caller = await resolveUser(pool, { kind: 'phone', value: '+15550005555' });
    // The model makes up the code (as a document could tell it to): the caller said other digits.
    harness.openai.chatReplies.push({ toolCalls: [{ name: 'link_web_account', arguments: { code } }] });
    const told = await callAndSay(caller, 'link my account, code 1234 5678');
    expect(told).toEqual([expect.stringContaining('Not linked')]);
    expect(await findUserByIdentity(pool, { kind: 'web', value: 'victim-two' })).toBe(victim);
    const { rows } = await pool.query('select link_tries from users where id = $1', [caller]);
    expect(rows[0]).toEqual({ link_tries: null });
  });
});

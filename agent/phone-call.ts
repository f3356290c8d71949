import { llm } from '@livekit/agents';
import { z } from 'zod';
import type { LinkOutcome } from '../db/index.ts';
import { digitsSaid, type UserTurn } from './user-words.ts';
import { liveKitClients, type LiveKitApiSettings } from './sip/livekit-api.ts';
import { transferCall } from './sip/transfer.ts';

/** What a phone conversation can do to its call. */
export interface CallControl {
  /** Hands the caller to a person; rejects with a user-facing error when it cannot. */
  transferToHuman(): Promise<void>;
  /** Ends the call. */
  hangUp(): Promise<void>;
}

export const PHONE_INSTRUCTIONS = `

You are on a phone call. The caller hears you through a phone line: keep answers even shorter, one or two sentences, and never mention the screen, citations or uploads.
- If the caller asks for a person, or pressed 0, tell them you are connecting them, then call the transfer_to_human tool.
- When the caller says goodbye or that they are done, say a short goodbye, then call the end_call tool.
- If the caller wants to use their web account on the phone, ask them to read out the eight-digit code the web page shows under "Link a phone", then call link_web_account with the digits they said.`;

/** Greeting for callers; returning callers are welcomed back. */
export function phoneGreeting(returning: boolean): string {
  return returning
    ? 'Hello again, this is your assistant. How can I help you today?'
    : "Hello, you've reached the assistant. How can I help you today?";
}

/** What the agent does when the caller presses a key; undefined for keys without meaning. */
export function instructionsForKey(digit: string): string | undefined {
  if (digit === '0') {
    return 'The caller pressed 0 to reach a person. Say in one short sentence that you are connecting them, then call transfer_to_human.';
  }
  return undefined;
}

/** Named tools, as `voice.Agent` takes them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tools differ in their argument types
export type NamedTools = Record<string, llm.AnonFunctionTool<any, unknown, string>>;

/**
 * The tools a phone conversation adds: transfer to a person, hanging up politely, and
 * linking the caller's number to their web account with a one-time code. The code must
 * be one the caller said in this turn (`turn`), so nothing but the caller's own voice
 * can link an account; the database limits how many codes a call and a caller may try.
 */
export function phoneTools(
  call: CallControl,
  accounts: { link(code: string): Promise<LinkOutcome> },
  turn: UserTurn,
): NamedTools {
  return {
    link_web_account: llm.tool({
      description:
        "Link this phone number to the caller's web account, with the eight-digit code the web page shows, as the caller said it.",
      parameters: z.object({ code: z.string().describe('The eight digits the caller read out') }),
      execute: async ({ code }) => {
        if (!digitsSaid(code, turn.text)) {
          return 'Not linked: the code must be the digits the caller just read out. Ask them to read the code from the web page.';
        }
        return linkOutcomeMessage(await accounts.link(code));
      },
    }),
    transfer_to_human: llm.tool({
      description: 'Transfer the caller to a person. Use when they ask for a human or pressed 0.',
      execute: async (_arguments, { ctx }) => {
        // Let the caller hear "connecting you" before the line changes hands.
        await ctx.waitForPlayout();
        try {
          await call.transferToHuman();
          return 'The call was transferred.';
        } catch (error) {
          return `The transfer failed: ${(error as Error).message} Apologize and offer to help yourself.`;
        }
      },
    }),
    end_call: llm.tool({
      description: 'End the phone call, after you said goodbye.',
      execute: async (_arguments, { ctx }) => {
        await ctx.waitForPlayout();
        await call.hangUp();
        return 'The call has ended.';
      },
    }),
  };
}

/** What the model is told after a try to link, in plain words it can pass on. */
function linkOutcomeMessage(outcome: LinkOutcome): string {
  switch (outcome.status) {
    case 'linked':
      return 'Linked: the caller now shares memories and documents with their web account.';
    case 'malformed':
      return 'That is not a code: codes have eight digits. Ask the caller to read all eight digits.';
    case 'wrong':
      return outcome.triesLeft > 0
        ? 'That code is wrong or expired. Ask the caller to check the code on the web page, or get a new one.'
        : 'That code is wrong or expired, and that was the last try for now.';
    case 'locked':
      return outcome.scope === 'call'
        ? 'Linking is locked for the rest of this call after too many wrong codes. Tell the caller to call again later with a new code.'
        : `Linking is locked for this number after too many wrong codes. Tell the caller to try again in ${minutesUntil(outcome.until)} minutes.`;
  }
}

const minutesUntil = (until: Date | null) =>
  Math.max(1, Math.ceil(((until?.getTime() ?? Date.now()) - Date.now()) / 60_000));

/**
 * Call control through LiveKit's server API: a SIP REFER to `transferNumber`, and
 * removing the caller from the room (which ends the SIP call).
 */
export function liveKitCallControl(
  settings: LiveKitApiSettings,
  call: { roomName: string; participantIdentity: string; transferNumber: string | undefined },
): CallControl {
  return {
    async transferToHuman() {
      if (!call.transferNumber)
        throw new Error('No number for a person is configured (TRANSFER_PHONE_NUMBER).');
      await transferCall(settings, {
        roomName: call.roomName,
        participantIdentity: call.participantIdentity,
        phoneNumber: call.transferNumber,
      });
    },
    async hangUp() {
      await liveKitClients(settings).rooms.removeParticipant(call.roomName, call.participantIdentity);
    },
  };
}

import { llm } from '@livekit/agents';
import { z } from 'zod';
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
- If the caller wants to use their web account on the phone, ask for the six-digit code the web page shows under "Link a phone", then call link_web_account with it.`;

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
 * linking the caller's number to their web account with a one-time code.
 */
export function phoneTools(
  call: CallControl,
  accounts: { link(code: string): Promise<boolean> },
): NamedTools {
  return {
    link_web_account: llm.tool({
      description:
        "Link this phone number to the caller's web account, with the six-digit code the web page shows.",
      parameters: z.object({ code: z.string().describe('The six digits the caller read out') }),
      execute: async ({ code }) =>
        (await accounts.link(code))
          ? 'Linked: the caller now shares memories and documents with their web account.'
          : 'That code is wrong or expired. Ask the caller to get a new code on the web page.',
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

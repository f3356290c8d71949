/**
 * `npm run call`: the agent phones someone. A new room is created by dispatching the
 * agent into it (the agent learns whom it calls from the dispatch metadata), then LiveKit
 * dials the number through the outbound trunk and puts the callee in the same room.
 */
import { randomBytes } from 'node:crypto';
import { callLiveKit, LiveKitError, liveKitClients, type LiveKitApiSettings } from './livekit-api.ts';
import { isE164 } from './phone-number.ts';
import { findByName, sipResourceNames } from './plan.ts';

/** Prefix of the rooms outbound calls are placed in. */
export const OUTBOUND_ROOM_PREFIX = 'call_out_';

/** Seconds the callee's phone may ring before the call counts as unanswered. */
export const RINGING_TIMEOUT_SECONDS = 30;

/** Whom to call, and for which agent. */
export interface OutboundCallOptions {
  agentName: string;
  /** Whom to call, E.164. */
  phoneNumber: string;
  /** Defaults to a new random name starting with {@link OUTBOUND_ROOM_PREFIX}. */
  roomName?: string;
}

/** A call that was answered: where it happens and its LiveKit ids. */
export interface OutboundCall {
  roomName: string;
  dispatchId: string;
  /** Identity of the callee in the room: `sip_` and the number, as LiveKit names inbound callers. */
  participantIdentity: string;
  sipCallId: string;
}

/** Metadata the agent receives with the dispatch of an outbound call (JSON). */
export interface OutboundCallMetadata {
  phoneNumber: string;
}

/** The identity a phone participant gets in the room. */
export function phoneParticipantIdentity(phoneNumber: string): string {
  return `sip_${phoneNumber}`;
}

/**
 * Places the call and waits until it is answered. When dialling fails (busy, no answer,
 * rejected) the room is deleted again so the dispatched agent does not wait in it, and a
 * {@link LiveKitError} carries the SIP status.
 */
export async function placeOutboundCall(
  settings: LiveKitApiSettings,
  options: OutboundCallOptions,
): Promise<OutboundCall> {
  if (!isE164(options.phoneNumber))
    throw new LiveKitError(
      `"${options.phoneNumber}" is not an E.164 phone number (like +15551234567, no spaces).`,
      false,
    );
  const { sip, dispatch, rooms } = liveKitClients(settings);
  const call = <T>(action: string, run: () => Promise<T>) => callLiveKit(settings, action, run);
  const trunkName = sipResourceNames(options.agentName).outboundTrunk;
  const trunks = await call('list the outbound SIP trunks', () => sip.listSipOutboundTrunk());
  const trunk = findByName(trunks, trunkName, 'outbound trunk', (t) => t.sipTrunkId);
  if (!trunk)
    throw new LiveKitError(
      `There is no outbound SIP trunk named "${trunkName}". Create it first: ` +
        'npm run sip:setup -- --number <your number> --outbound --address <provider SIP host> ' +
        '--username <user> (password in SIP_OUTBOUND_PASSWORD).',
      false,
    );

  const roomName = options.roomName ?? `${OUTBOUND_ROOM_PREFIX}${randomBytes(6).toString('hex')}`;
  const metadata: OutboundCallMetadata = { phoneNumber: options.phoneNumber };
  const created = await call('dispatch the agent', () =>
    dispatch.createDispatch(roomName, options.agentName, { metadata: JSON.stringify(metadata) }),
  );
  const participantIdentity = phoneParticipantIdentity(options.phoneNumber);
  try {
    const participant = await call(`call ${options.phoneNumber}`, () =>
      sip.createSipParticipant(trunk.sipTrunkId, options.phoneNumber, roomName, {
        participantIdentity,
        participantName: options.phoneNumber,
        waitUntilAnswered: true,
        ringingTimeout: RINGING_TIMEOUT_SECONDS,
      }),
    );
    return { roomName, dispatchId: created.id, participantIdentity, sipCallId: participant.sipCallId };
  } catch (error) {
    // Best effort: the dialling error is the one worth reporting, not a failed cleanup.
    await rooms.deleteRoom(roomName).catch(() => undefined);
    throw error;
  }
}

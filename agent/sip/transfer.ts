/**
 * Call transfer: hands a phone caller over to another number (a person at a desk, a
 * support line). LiveKit's SIP service sends the caller's provider a SIP REFER to a
 * `tel:` URI; once accepted the caller leaves the room. The voice agent calls this from
 * a tool, so errors come back as {@link LiveKitError} with a message fit to act on.
 */
import { callLiveKit, LiveKitError, liveKitClients, type LiveKitApiSettings } from './livekit-api.ts';
import { isE164, telUri } from './phone-number.ts';

/** Which caller to transfer, from which room, to which number. */
export interface TransferOptions {
  /** Room the caller is in. */
  roomName: string;
  /** The caller's participant identity in that room (e.g. `sip_+15551234567`). */
  participantIdentity: string;
  /** Where to transfer the call, E.164. */
  phoneNumber: string;
  /** Play a dial tone to the caller while the transfer target rings (default false). */
  playDialtone?: boolean;
}

/**
 * Asks LiveKit to transfer the SIP participant to `phoneNumber` and resolves once the
 * transfer was accepted (the request waits while the target rings, up to about 30 s).
 */
export async function transferCall(settings: LiveKitApiSettings, options: TransferOptions): Promise<void> {
  if (!isE164(options.phoneNumber))
    throw new LiveKitError(
      `Cannot transfer to "${options.phoneNumber}": not an E.164 phone number (like +15551234567).`,
      false,
    );
  const { sip } = liveKitClients(settings);
  await callLiveKit(settings, `transfer the call to ${options.phoneNumber}`, () =>
    sip.transferSipParticipant(options.roomName, options.participantIdentity, telUri(options.phoneNumber), {
      playDialtone: options.playDialtone ?? false,
    }),
  );
}

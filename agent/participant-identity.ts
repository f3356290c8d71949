import type { Identity } from '../db/index.ts';
import { parseUserReference } from './user-reference.ts';

/** What the worker knows about the person it is talking to. */
export interface ParticipantInfo {
  identity: string;
  /** LiveKit participant kind: SIP callers are bridged phone calls. */
  isSip: boolean;
  attributes: Readonly<Record<string, string>>;
  /** The job's dispatch metadata (JSON), if any. */
  dispatchMetadata: string | undefined;
}

/**
 * Maps a LiveKit participant to our user identity: a SIP caller by their phone number
 * (`sip.phoneNumber`), a web participant by the identity our token endpoint gave them,
 * unless the dispatch metadata names the user explicitly (`{"userIdentity": "web:..."}`
 * or `{"phoneNumber": "+1..."}` for outbound calls).
 */
export function identityOfParticipant(participant: ParticipantInfo): Identity {
  const metadata = parseMetadata(participant.dispatchMetadata);
  if (typeof metadata.phoneNumber === 'string' && metadata.phoneNumber !== '') {
    return { kind: 'phone', value: metadata.phoneNumber };
  }
  const named = namedIdentity(metadata.userIdentity);
  if (named) return named;
  if (participant.isSip) {
    const number = participant.attributes['sip.phoneNumber'];
    if (number) return { kind: 'phone', value: number };
  }
  return { kind: 'web', value: participant.identity };
}

/** `userIdentity` as the token endpoint writes it (`web:<browser id>`); anything malformed is ignored. */
function namedIdentity(value: unknown): Identity | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const reference = parseUserReference(value);
    return reference.kind === 'identity' ? reference.identity : undefined;
  } catch {
    return undefined;
  }
}

function parseMetadata(metadata: string | undefined): Record<string, unknown> {
  if (!metadata) return {};
  try {
    const parsed: unknown = JSON.parse(metadata);
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

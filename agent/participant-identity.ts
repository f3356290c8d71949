import type { Identity } from '../db/index.ts';

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
  if (typeof metadata.userIdentity === 'string') {
    const match = /^(web|phone):(.+)$/.exec(metadata.userIdentity);
    if (match) return { kind: match[1] as Identity['kind'], value: match[2] as string };
  }
  if (participant.isSip) {
    const number = participant.attributes['sip.phoneNumber'];
    if (number) return { kind: 'phone', value: number };
  }
  return { kind: 'web', value: participant.identity };
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

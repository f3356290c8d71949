import { describe, expect, it } from 'vitest';
import { identityOfParticipant } from './participant-identity.ts';

const base = { identity: 'browser-7f3a', isSip: false, attributes: {}, dispatchMetadata: undefined };

describe('identityOfParticipant', () => {
  it('uses the web identity of a browser participant', () => {
    expect(identityOfParticipant(base)).toEqual({ kind: 'web', value: 'browser-7f3a' });
  });

  it("uses a SIP caller's phone number", () => {
    expect(
      identityOfParticipant({
        ...base,
        identity: 'sip_+4915112345678',
        isSip: true,
        attributes: { 'sip.phoneNumber': '+4915112345678' },
      }),
    ).toEqual({ kind: 'phone', value: '+4915112345678' });
  });

  it('prefers the identity named in the dispatch metadata', () => {
    expect(
      identityOfParticipant({ ...base, dispatchMetadata: JSON.stringify({ phoneNumber: '+15550100' }) }),
    ).toEqual({
      kind: 'phone',
      value: '+15550100',
    });
    expect(identityOfParticipant({ ...base, dispatchMetadata: '{"userIdentity":"web:abc"}' })).toEqual({
      kind: 'web',
      value: 'abc',
    });
    expect(identityOfParticipant({ ...base, dispatchMetadata: 'not json' })).toEqual({
      kind: 'web',
      value: 'browser-7f3a',
    });
  });
});

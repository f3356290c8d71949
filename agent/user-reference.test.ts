import { describe, expect, it } from 'vitest';
import { parseUserReference } from './user-reference.ts';

describe('parseUserReference', () => {
  it('reads a user id, a web id and an E.164 phone number', () => {
    expect(parseUserReference('3F2504E0-4F89-41D3-9A0C-0305E82C3301')).toEqual({
      kind: 'user-id',
      userId: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
    });
    expect(parseUserReference('web:alice')).toEqual({
      kind: 'identity',
      identity: { kind: 'web', value: 'alice' },
    });
    expect(parseUserReference(' phone:+15551234567 ')).toEqual({
      kind: 'identity',
      identity: { kind: 'phone', value: '+15551234567' },
    });
  });

  it('refuses a plain name, suggesting the web: form', () => {
    expect(() => parseUserReference('alice')).toThrow(
      '"alice" is not a user: write a user id (UUID), web:<id> or phone:<E.164 number, like +15551234567>. ' +
        'For a person of your own naming, write web:alice.',
    );
  });

  it('never accepts an empty id', () => {
    for (const empty of ['', '  ', 'web:', 'web:  ', 'phone:'])
      expect(() => parseUserReference(empty), JSON.stringify(empty)).toThrow(/not a user|names no one/);
  });

  it('refuses phone numbers not in E.164 and other kinds', () => {
    expect(() => parseUserReference('phone:555 1234')).toThrow(/E\.164/);
    expect(() => parseUserReference('email:a@b.c')).toThrow(/is not a user/);
  });
});

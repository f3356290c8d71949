/**
 * Phone numbers as the phone bridge accepts them: E.164 only (`+` then up to 15 digits,
 * no spaces), because LiveKit matches trunk numbers and allowed callers exactly (after
 * stripping formatting) and SIP providers expect E.164 in `To`/`From`.
 */

const E164 = /^\+[1-9]\d{6,14}$/;

/** Whether `value` is an E.164 number such as `+15551234567`. */
export function isE164(value: string): boolean {
  return E164.test(value);
}

/** The `tel:` URI LiveKit dials or transfers to, e.g. `tel:+15551234567`. */
export function telUri(phoneNumber: string): string {
  return `tel:${phoneNumber}`;
}

/**
 * Returns the numbers whose format is wrong, so callers can report all of them at once.
 */
export function invalidNumbers(values: readonly string[]): string[] {
  return values.filter((value) => !isE164(value));
}

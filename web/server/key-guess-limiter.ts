import { isIPv6 } from 'node:net';

/** Wrong access keys an address may send per window before it must wait. */
export const MAX_KEY_FAILURES = 5;
/** The window wrong keys are counted in, in ms. */
export const KEY_FAILURE_WINDOW_MS = 60_000;
/** Addresses remembered at most; past this the oldest windows are dropped (memory stays bounded). */
const MAX_ADDRESSES = 100_000;

export interface KeyGuessLimits {
  maxFailures: number;
  windowMs: number;
}

interface Window {
  startedAt: number;
  failures: number;
}

/**
 * Counts wrong access keys per client address in fixed windows. Once an address has sent
 * `maxFailures` wrong keys in a window, every key it sends is refused unchecked until the
 * window ends, the right one too: answering a right key differently would tell a guesser
 * when they hit. Requests with the signed access cookie never come here, so people who
 * already gave the key are not held up by a guesser behind the same address.
 */
export class KeyGuessLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limits: KeyGuessLimits = {
      maxFailures: MAX_KEY_FAILURES,
      windowMs: KEY_FAILURE_WINDOW_MS,
    },
    private readonly now: () => number = Date.now,
  ) {}

  /** How long `address` must wait before its next key is checked, in ms; 0 when it may try now. */
  waitMs(address: string): number {
    const window = this.current(addressKey(address));
    if (!window || window.failures < this.limits.maxFailures) return 0;
    return window.startedAt + this.limits.windowMs - this.now();
  }

  /** Counts one wrong key from `address`. */
  recordFailure(address: string): void {
    const key = addressKey(address);
    const window = this.current(key);
    if (window) {
      window.failures++;
      return;
    }
    if (this.windows.size >= MAX_ADDRESSES) this.dropExpired();
    // Still full: every window is live. Dropping the oldest lets that address start over,
    // which needs MAX_ADDRESSES other addresses guessing within one window.
    if (this.windows.size >= MAX_ADDRESSES) this.windows.delete(this.windows.keys().next().value as string);
    this.windows.set(key, { startedAt: this.now(), failures: 1 });
  }

  private current(key: string): Window | undefined {
    const window = this.windows.get(key);
    if (window && this.now() - window.startedAt >= this.limits.windowMs) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }

  private dropExpired(): void {
    const now = this.now();
    for (const [key, window] of this.windows) {
      if (now - window.startedAt >= this.limits.windowMs) this.windows.delete(key);
    }
  }
}

/**
 * The unit an address is limited as: an IPv4 address (IPv4-mapped IPv6 included) alone,
 * an IPv6 address by its /64 network, since one host is usually given a whole /64 and
 * could otherwise guess from billions of addresses.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, without leading zeros, `::` expanded. */
function expandIPv6(address: string): string[] {
  // A trailing dotted quad (`64:ff9b::192.0.2.1`) is two groups.
  const text = address
    .toLowerCase()
    .replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_match, a: string, b: string, c: string, d: string) =>
      [((Number(a) << 8) | Number(b)).toString(16), ((Number(c) << 8) | Number(d)).toString(16)].join(':'),
    );
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((group) => group.replace(/^0+(?=.)/, ''));
}

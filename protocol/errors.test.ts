import { expect, test } from 'vitest';
import { ConfigError } from '../config/load.ts';
import { IngestError } from '../ingest/errors.ts';
import { MediaError } from '../media/errors.ts';
import { AppError, isUserFacing, userMessage } from './errors.ts';

test('error classes share one base with a stable code, userFacing and retryable', () => {
  const media = new MediaError('encrypted', 'This PDF is password-protected.');
  expect(media).toBeInstanceOf(AppError);
  expect(media).toMatchObject({ name: 'MediaError', code: 'encrypted', userFacing: true, retryable: false });
  expect(new IngestError('embedding-failed', 'Try again.')).toMatchObject({ retryable: true });
  expect(new ConfigError('Set PORT.')).toMatchObject({ name: 'ConfigError', code: 'configuration' });
});

test('only errors written for people pass their message on', () => {
  const internal = new AppError('bug', 'stack details', { userFacing: false, retryable: false });
  expect(isUserFacing(internal)).toBe(false);
  expect(isUserFacing(new Error('plain'))).toBe(false);
  expect(isUserFacing(new ConfigError('Set PORT.'))).toBe(true);
  expect(userMessage(new Error('socket hang up'), 'Please try again.')).toBe('Please try again.');
  expect(userMessage(new ConfigError('Set PORT.'), 'Please try again.')).toBe('Set PORT.');
});

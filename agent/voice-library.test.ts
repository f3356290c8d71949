import { expect, it } from 'vitest';
import {
  UnknownVoiceError,
  VoiceCatalog,
  VoicesUnavailableError,
  type VoiceLibrary,
} from './voice-library.ts';

/** A library that counts its calls and fails when told to (the provider adapters have wire tests). */
function library(): VoiceLibrary & { lists: number; samples: string[]; failLists: number } {
  const state = {
    provider: 'openai' as const,
    defaultVoiceId: 'alloy',
    lists: 0,
    samples: [] as string[],
    failLists: 0,
    async list() {
      state.lists++;
      if (state.failLists > 0) {
        state.failLists--;
        throw new Error('provider down');
      }
      return [
        { id: 'nova', name: 'Nova' },
        { id: 'onyx', name: 'Onyx' },
      ];
    },
    async synthesizeSample(voiceId: string, text: string) {
      state.samples.push(`${voiceId}:${text}`);
      return Buffer.from(`${voiceId}:${text}`);
    },
  };
  return state;
}

it('fetches the list once per period, and again after a failure', async () => {
  let now = 0;
  const provider = library();
  const catalog = new VoiceCatalog(provider, { listTtlMs: 1000, now: () => now });
  provider.failLists = 1;
  await expect(catalog.list()).rejects.toBeInstanceOf(VoicesUnavailableError);
  expect(await catalog.list()).toHaveLength(2);
  now = 999;
  await catalog.list();
  expect(provider.lists).toBe(2);
  now = 2000;
  await catalog.list();
  expect(provider.lists).toBe(3);
});

it('accepts listed voices and the configured default, and refuses others', async () => {
  const catalog = new VoiceCatalog(library());
  expect(await catalog.find('onyx')).toEqual({ id: 'onyx', name: 'Onyx' });
  expect(await catalog.find('alloy')).toEqual({ id: 'alloy', name: 'alloy' });
  await expect(catalog.find('shimmer')).rejects.toBeInstanceOf(UnknownVoiceError);
  await expect(catalog.preview('shimmer')).rejects.toBeInstanceOf(UnknownVoiceError);
});

it('keeps the most recently used previews per (voice, text)', async () => {
  const provider = library();
  const catalog = new VoiceCatalog(provider, { previewCacheSize: 2 });
  await catalog.preview('nova', 'one');
  await catalog.preview('onyx', 'one');
  await catalog.preview('nova', 'one'); // cached; now the most recent
  await catalog.preview('nova', 'two'); // drops onyx:one, the least recent
  await catalog.preview('nova', 'one');
  await catalog.preview('onyx', 'one');
  expect(provider.samples).toEqual(['nova:one', 'onyx:one', 'nova:two', 'onyx:one']);
});

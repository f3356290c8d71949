import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from './load.ts';
import { environmentKeys } from './schema.ts';

const load = (env: Record<string, string>, envFile: string | false = false) =>
  loadConfig({ env, envFile, cwd: '/srv/app' });

describe('loadConfig', () => {
  it('gives a working embedded default with nothing set', () => {
    const config = load({});
    expect(config.database).toEqual({
      url: undefined,
      dataDir: '/srv/app/.data',
      uploadsDirectory: '/srv/app/.data/uploads',
    });
    expect(config.server).toEqual({ host: '127.0.0.1', port: 3000, accessKey: undefined, trustProxy: false });
    expect(config.livekit).toBeUndefined();
    expect(config.llm.baseUrl).toBe('https://api.openai.com/v1');
    expect(config.embedding.dimensions).toBe(1536);
    expect(config.stt.provider).toBeUndefined();
    expect(config.tts.provider).toBeUndefined();
    expect(config.visionModel).toBeUndefined();
  });

  it('reads TTS_VOICES as a list of voice names, and refuses anything else naming the variable', () => {
    expect(load({ TTS_VOICES: 'af_bella, am_adam,bf_emma' }).tts.openai.voices).toEqual([
      'af_bella',
      'am_adam',
      'bf_emma',
    ]);
    expect(load({}).tts.openai.voices).toBeUndefined();
    expect(() => load({ TTS_VOICES: 'alloy,,nova' })).toThrow(/TTS_VOICES/);
  });

  it('is deeply frozen', () => {
    const config = load({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.llm)).toBe(true);
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('keeps provider settings as given (agent/providers.ts chooses) and lets base URLs point anywhere', () => {
    const config = load({
      DEEPGRAM_API_KEY: 'dg',
      ELEVENLABS_API_KEY: 'el',
      OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1/',
      EMBEDDING_BASE_URL: 'http://127.0.0.1:9000/v1',
      VISION_MODEL: 'llava',
    });
    expect(config.stt).toMatchObject({ provider: undefined, deepgram: { apiKey: 'dg' } });
    expect(config.stt.openai.baseUrl).toBe('http://127.0.0.1:11434/v1');
    expect(config.tts).toMatchObject({ provider: undefined, elevenlabs: { apiKey: 'el' } });
    expect(config.llm.baseUrl).toBe('http://127.0.0.1:11434/v1');
    expect(config.embedding.baseUrl).toBe('http://127.0.0.1:9000/v1');
    expect(config.visionModel).toBe('llava');
    expect(load({ DEEPGRAM_API_KEY: 'dg', STT_PROVIDER: 'openai' }).stt.provider).toBe('openai');
  });

  it('names the variable and how to fix it when a value is wrong', () => {
    expect(() => load({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => load({ PORT: 'eighty' })).toThrow(
      /PORT: expected a whole number \(got "eighty"\)\. Set PORT/,
    );
    expect(() => load({ PORT: '70000' })).toThrow(/PORT: expected at most 65535/);
    expect(() => load({ DATABASE_URL: 'mysql://x' })).toThrow(
      /DATABASE_URL: expected a URL starting with postgres:\/\//,
    );
    expect(() => load({ STT_PROVIDER: 'whisper' })).toThrow(/STT_PROVIDER: expected "deepgram" or "openai"/);
    expect(() => load({ LIVEKIT_URL: 'wss://example.livekit.cloud' })).toThrow(
      /LIVEKIT_API_KEY: required when LIVEKIT_URL is set[\s\S]*LIVEKIT_API_SECRET: required/,
    );
  });

  it('never prints secrets in errors', () => {
    expect(() => load({ APP_ACCESS_KEY: 'short' })).toThrow(/APP_ACCESS_KEY: .*\(got "\*\*\*"\)/);
  });

  it('reads a .env file, with the environment taking precedence and empty values meaning unset', () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'config-'));
    const file = path.join(folder, '.env');
    writeFileSync(
      file,
      'PORT=4000\nLLM_MODEL="llama3.1"\n# a comment\nDATABASE_URL=\nAGENT_NAME=from-file\n',
    );
    const config = loadConfig({ env: { AGENT_NAME: 'from-env' }, envFile: file, cwd: folder });
    expect(config.server.port).toBe(4000);
    expect(config.llm.model).toBe('llama3.1');
    expect(config.database.url).toBeUndefined();
    expect(config.agentName).toBe('from-env');
  });

  it('.env.example documents every variable with a comment, and parses as a valid configuration', () => {
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const lines = example.split('\n');
    for (const key of environmentKeys) {
      const index = lines.findIndex((line) => line.startsWith(`${key}=`));
      expect(index, `${key} is missing from .env.example`).toBeGreaterThan(0);
      expect(lines[index - 1], `${key} has no comment above it`).toMatch(/^# \S/);
    }
    const documented = lines.filter((line) => /^[A-Z_]+=/.test(line)).map((line) => line.split('=')[0]);
    expect(documented.sort()).toEqual([...environmentKeys].sort());
    const folder = mkdtempSync(path.join(tmpdir(), 'config-'));
    writeFileSync(path.join(folder, '.env'), example);
    expect(() => loadConfig({ env: {}, cwd: folder })).not.toThrow();
  });
});

/**
 * docker-compose.yml cannot run here (no Docker engine), so this reads it the way Compose
 * does (YAML, then `${VAR}` interpolation from .env) and checks that every service the
 * app needs is defined and wired consistently with deploy/*.yaml and the Dockerfile.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = new URL('../', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, root), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
interface Compose {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

/** Compose's variable interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`. */
function interpolate(text: string, env: Record<string, string>): string {
  const pattern = /\$\$|\$\{([A-Za-z_]\w*)(?:(:-|-|:\?|\?)([^}]*))?\}|\$([A-Za-z_]\w*)/g;
  return text.replace(pattern, (match, name?: string, operator?: string, argument = '', bare?: string) => {
    if (match === '$$') return '$';
    const key = (name ?? bare) as string;
    const value = env[key];
    const missing = operator?.startsWith(':') ? !value : value === undefined;
    if (operator?.endsWith('?') && missing)
      throw new Error(`required variable ${key} is missing: ${argument}`);
    if (operator?.endsWith('-') && missing) return argument;
    return value ?? '';
  });
}
function interpolateAll<T>(value: T, env: Record<string, string>): T {
  if (typeof value === 'string') return interpolate(value, env) as T;
  if (Array.isArray(value)) return value.map((item) => interpolateAll(item, env)) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env)])) as T;
  return value;
}

const rawCompose = parse(read('docker-compose.yml')) as Compose;
/** What a user's .env must hold at least: the required secrets. */
const requiredEnv = {
  LIVEKIT_API_KEY: 'APIkey123',
  LIVEKIT_API_SECRET: 'a'.repeat(40),
  POSTGRES_PASSWORD: 'pw0123',
};
const compose = interpolateAll(rawCompose, requiredEnv);
const service = (name: string): Service => {
  const found = compose.services[name];
  if (!found) throw new Error(`no service ${name}`);
  return found;
};
const env = (name: string) => service(name).environment ?? {};
const livekitConfig = parse(read('deploy/livekit.yaml')) as {
  port: number;
  rtc: { tcp_port: number; port_range_start: number; port_range_end: number };
  redis: { address: string };
};
const sipConfig = parse(read('deploy/sip.yaml')) as {
  redis: { address: string };
  sip_port: number;
  rtp_port: string;
  health_port: number;
};

describe('docker-compose.yml', () => {
  it('defines LiveKit, LiveKit SIP, Redis, Postgres with pgvector and the app built from the Dockerfile', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['app', 'livekit', 'postgres', 'redis', 'sip']);
    expect(service('livekit').image).toMatch(/^livekit\/livekit-server(:|$)/);
    expect(service('sip').image).toMatch(/^livekit\/sip(:|$)/);
    expect(service('redis').image).toBe('redis:7');
    expect(service('postgres').image).toBe('pgvector/pgvector:pg17');
    expect(service('app').build).toBe('.');
  });

  it('requires the LiveKit keys and the Postgres password from .env, and nothing else', () => {
    for (const key of Object.keys(requiredEnv)) {
      const { [key]: _omitted, ...rest } = requiredEnv as Record<string, string>;
      expect(() => interpolateAll(rawCompose, rest), key).toThrow(`required variable ${key} is missing`);
    }
    // Every use says so, not just one: a default on a secret would silently win somewhere.
    const uses = [
      ...read('docker-compose.yml').matchAll(
        /\$\{(LIVEKIT_API_KEY|LIVEKIT_API_SECRET|POSTGRES_PASSWORD)([^}]*)\}/g,
      ),
    ];
    expect(uses.length).toBeGreaterThan(0);
    for (const [use, , operator] of uses) expect(operator, use).toMatch(/^:\?/);
  });

  it('gives every service a health check, and starts the app after healthy Postgres, Redis and LiveKit', () => {
    for (const [name, definition] of Object.entries(compose.services))
      expect(definition.healthcheck?.test.length, name).toBeGreaterThan(1);
    const healthy = (name: string) =>
      Object.entries(service(name).depends_on ?? {})
        .filter(([, dependency]) => dependency.condition === 'service_healthy')
        .map(([dependency]) => dependency)
        .sort();
    expect(healthy('app')).toEqual(['livekit', 'postgres', 'redis']);
    expect(healthy('sip')).toEqual(['livekit', 'redis']);
    expect(healthy('livekit')).toEqual(['redis']);
    expect(service('app').healthcheck?.test.join(' ')).toMatch(/process\.env\.PORT.*\/healthz/);
    expect(service('sip').healthcheck?.test.join(' ')).toContain(
      `/dev/tcp/127.0.0.1/${sipConfig.health_port}`,
    );
    expect(service('livekit').healthcheck?.test.join(' ')).toContain(
      `http://127.0.0.1:${livekitConfig.port}/`,
    );
  });

  it("points the app's DATABASE_URL at the postgres service with its user, password and database", () => {
    const url = new URL(env('app').DATABASE_URL ?? '');
    expect(url.protocol).toBe('postgres:');
    expect([url.hostname, url.port]).toEqual(['postgres', '5432']);
    expect(url.username).toBe(env('postgres').POSTGRES_USER);
    expect(url.password).toBe(requiredEnv.POSTGRES_PASSWORD);
    expect(env('postgres').POSTGRES_PASSWORD).toBe(requiredEnv.POSTGRES_PASSWORD);
    expect(url.pathname).toBe(`/${env('postgres').POSTGRES_DB}`);
  });

  it('wires the app, LiveKit and SIP to the same LiveKit URL, API keys and Redis', () => {
    const livekitUrl = `ws://livekit:${livekitConfig.port}`;
    expect(env('app').LIVEKIT_URL).toBe(livekitUrl);
    expect(env('sip').LIVEKIT_WS_URL).toBe(livekitUrl);
    const { LIVEKIT_API_KEY: key, LIVEKIT_API_SECRET: secret } = requiredEnv;
    expect(env('livekit').LIVEKIT_KEYS).toBe(`${key}: ${secret}`);
    expect(parse(env('livekit').LIVEKIT_KEYS ?? '')).toEqual({ [key]: secret });
    for (const name of ['app', 'sip'])
      expect([env(name).LIVEKIT_API_KEY, env(name).LIVEKIT_API_SECRET], name).toEqual([key, secret]);

    expect(livekitConfig.redis.address).toBe('redis:6379');
    expect(sipConfig.redis.address).toBe(livekitConfig.redis.address);
    expect(env('app').REDIS_URL).toBe(`redis://${livekitConfig.redis.address}`);
    expect(env('app')).toMatchObject({ HOST: '0.0.0.0', PORT: '3000', AGENT_NAME: 'assistant' });
  });

  it('publishes the ports deploy/livekit.yaml and deploy/sip.yaml configure, one to one', () => {
    const { port, rtc } = livekitConfig;
    const udpRange = `${rtc.port_range_start}-${rtc.port_range_end}`;
    expect(service('livekit').ports).toEqual([
      `${port}:${port}`,
      `${rtc.tcp_port}:${rtc.tcp_port}/tcp`,
      `${udpRange}:${udpRange}/udp`,
    ]);
    const { sip_port: sipPort, rtp_port: rtpRange } = sipConfig;
    expect(rtpRange).toMatch(/^\d+-\d+$/);
    expect(service('sip').ports).toEqual([
      `${sipPort}:${sipPort}/udp`,
      `${sipPort}:${sipPort}/tcp`,
      `${rtpRange}:${rtpRange}/udp`,
    ]);
    expect(service('app').ports).toEqual([`${env('app').PORT}:${env('app').PORT}`]);
    expect(service('redis').ports ?? []).toEqual([]);
    expect(service('postgres').ports ?? []).toEqual([]);
  });

  it('keeps data in named volumes and mounts the config files where the images read them', () => {
    const mounts = (name: string) =>
      Object.fromEntries(
        (service(name).volumes ?? []).map((volume) => volume.split(':').slice(0, 2).reverse()),
      );
    expect(mounts('app')[env('app').DATA_DIR ?? '']).toBe('app_data');
    expect(mounts('postgres')['/var/lib/postgresql/data']).toBe('postgres_data');
    expect(mounts('postgres')['/docker-entrypoint-initdb.d/init.sql']).toBe('./deploy/postgres/init.sql');
    const livekitConfigPath =
      service('livekit').command?.[service('livekit').command!.indexOf('--config') + 1];
    expect(mounts('livekit')[livekitConfigPath ?? '']).toBe('./deploy/livekit.yaml');
    expect(mounts('sip')[env('sip').SIP_CONFIG_FILE ?? '']).toBe('./deploy/sip.yaml');
    expect(mounts('redis')['/data']).toBe('redis_data');
    expect(service('redis').command).toEqual(['redis-server', '--appendonly', 'yes']);

    const sources = Object.values(compose.services).flatMap((definition) =>
      (definition.volumes ?? []).map((volume) => volume.split(':')[0] as string),
    );
    for (const source of sources) {
      if (source.startsWith('./')) expect(existsSync(new URL(source, root)), source).toBe(true);
      else expect(Object.keys(compose.volumes), source).toContain(source);
    }
  });
});

describe('Dockerfile', () => {
  const instructions = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stages = instructions.reduce<string[][]>((all, line) => {
    if (/^FROM\s/i.test(line)) all.push([]);
    all.at(-1)?.push(line);
    return all;
  }, []);
  const finalStage = stages.at(-1) ?? [];

  it("is multi-stage, runs as a non-root user, and starts with the README's `npm start`", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const user = finalStage.filter((line) => line.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER\s+(root|0)(:|$)/);
    const cmd = finalStage.filter((line) => line.startsWith('CMD ')).at(-1) ?? '';
    expect(JSON.parse(cmd.slice(4))).toEqual(['npm', 'start']);
    expect(service('app').command).toEqual(['npm', 'start']);
    const quickStart = read('README.md').split('## Quick start')[1]?.split('\n## ')[0] ?? '';
    expect(quickStart).toContain('npm start');
    expect(read('README.md')).toMatch(/## Deployment[\s\S]*docker compose up/);
  });

  it('installs production dependencies only, with .npmrc in place, and the final stage uses them', () => {
    const installs = instructions.filter((line) => /\bnpm (ci|install|i)\b/.test(line));
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) expect(install).toMatch(/npm ci --omit=dev/);
    const installStage = stages.find((stage) => stage.some((line) => installs.includes(line))) ?? [];
    const copyNpmrc = installStage.findIndex((line) => /^COPY\s.*\.npmrc/.test(line));
    expect(copyNpmrc).toBeGreaterThan(-1);
    expect(copyNpmrc).toBeLessThan(installStage.findIndex((line) => installs.includes(line)));
    const stageName = /\sAS\s+(\S+)/i.exec(installStage[0] ?? '')?.[1];
    expect(finalStage).toContain(`COPY --from=${stageName} /app/node_modules ./node_modules`);
    expect(finalStage.some((line) => /\bnpm (ci|install)\b/.test(line))).toBe(false);
  });

  it('keeps .env and local state out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['.env', 'node_modules', '.data', '.git']) expect(ignored).toContain(entry);
    expect(ignored).toContain('!.env.example');
  });
});

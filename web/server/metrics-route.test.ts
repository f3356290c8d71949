import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test-server.ts';

const KEY = 'metrics-access-key-1234';

describe('GET /metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { APP_ACCESS_KEY: KEY } });
  });
  afterAll(() => server?.close());

  it('answers Prometheus text to a scraper with the access key, and 401 without it', async () => {
    const refused = await fetch(`${server.url}/metrics`);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'access_key_required' });

    const scraped = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(scraped.status).toBe(200);
    expect(scraped.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
    const text = await scraped.text();
    expect(text).toContain('# TYPE assistant_turn_stage_duration_ms histogram');
    expect(text).toContain('# TYPE assistant_live_sessions gauge');
    expect(text).toContain('# TYPE assistant_provider_errors_total counter');
  });
});

/**
 * The `sip:setup` and `call` commands end to end: the real entry points run as child
 * processes (as `npm run` runs them) against the LiveKit API fake.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLiveKitApiServer, type LiveKitApiServer } from '../../test/fakes/livekit-api-server.ts';
import { runApp, type CommandOutcome } from '../../test/support/run-command.ts';
import { setUpSip } from './provision.ts';

// An empty working directory, so a developer's own .env cannot leak into the commands.
let cwd: string;
beforeAll(() => {
  cwd = mkdtempSync(path.join(tmpdir(), 'sip-commands-'));
});
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

let server: LiveKitApiServer;
beforeEach(async () => {
  server = await startLiveKitApiServer();
});
afterEach(() => server.close());

/** Runs `app/<script>` like `npm run` does, pointed at the fake LiveKit server. */
function run(script: string, args: string[], env: Record<string, string> = {}): Promise<CommandOutcome> {
  const liveKit = {
    LIVEKIT_URL: server.url.replace('http', 'ws'),
    LIVEKIT_API_KEY: server.apiKey,
    LIVEKIT_API_SECRET: server.apiSecret,
  };
  return runApp(script, args, { ...liveKit, ...env }, { cwd, timeoutMs: 30_000 });
}

describe('npm run sip:setup', () => {
  it('provisions, prints what to configure at the provider, and reports nothing changed the second time', async () => {
    const args = ['--number', '+15551230000', '--allowed', '+15559870000'];
    const outbound = ['--outbound', '--address', 'example.pstn.twilio.com', '--username', 'assistant'];
    const env = { AGENT_NAME: 'receptionist', SIP_OUTBOUND_PASSWORD: 'from-the-environment' };

    const first = await run('sip-setup.ts', [...args, ...outbound], env);

    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/Inbound trunk +"receptionist-inbound" \(ST_\d+\): created/);
    expect(first.stdout).toMatch(/Dispatch rule +"receptionist-dispatch" \(SDR_\d+\): created/);
    expect(first.stdout).toMatch(/Outbound trunk "receptionist-outbound" \(ST_\d+\): created/);
    expect(first.stdout).toContain('sip:<public IP of the host>:5060');
    expect(first.stdout).toContain('from +15559870000');
    expect(first.stdout).toContain('AGENT_NAME=receptionist');
    expect(first.stdout).not.toContain('from-the-environment');
    expect(server.outboundTrunks[0]?.authPassword).toBe('from-the-environment');

    server.requests.length = 0;
    const second = await run('sip-setup.ts', [...args, ...outbound, '--json'], env);

    expect(second.code).toBe(0);
    const result = JSON.parse(second.stdout) as Record<string, { change: string }>;
    expect(Object.values(result).map((resource) => resource.change)).toEqual([
      'unchanged',
      'unchanged',
      'unchanged',
    ]);
    expect(server.mutations()).toEqual([]);
  });

  it('explains what is missing: LIVEKIT_URL, --number, a password for --username', async () => {
    const outbound = ['--outbound', '--address', 'sip.example.com', '--username', 'u'];
    const [withoutLiveKit, withoutNumber, withoutPassword] = await Promise.all([
      run('sip-setup.ts', ['--number', '+15551230000'], { LIVEKIT_URL: '' }),
      run('sip-setup.ts', []),
      run('sip-setup.ts', ['--number', '+15551230000', ...outbound]),
    ]);

    expect(withoutLiveKit.code).toBe(1);
    expect(withoutLiveKit.stderr).toMatch(
      /^error: LIVEKIT_URL is not set, and `npm run sip:setup` talks to a LiveKit/,
    );
    expect(withoutNumber).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^error: Missing --number\. Usage: npm run sip:setup[^\n]*\n$/),
    });
    expect(withoutPassword.stderr).toMatch(/--username needs a password: set SIP_OUTBOUND_PASSWORD/);
    expect(server.requests).toEqual([]);
  });
});

describe('npm run call', () => {
  async function withOutboundTrunk() {
    const settings = { url: server.url, apiKey: server.apiKey, apiSecret: server.apiSecret };
    await setUpSip(settings, {
      agentName: 'assistant',
      numbers: ['+15551230000'],
      outbound: { address: 'sip.example.com' },
    });
    server.requests.length = 0;
  }

  it('places the call and says where the agent is talking', async () => {
    await withOutboundTrunk();

    const outcome = await run('call.ts', ['+15557654321']);

    expect(outcome.stderr).toBe('');
    expect(outcome.stdout).toMatch(
      /^Calling \+15557654321\.\.\.\nAnswered\. The agent "assistant" is talking to \+15557654321 in room call_out_[0-9a-f]{12}/,
    );
    expect(server.mutations().map((request) => request.method)).toEqual([
      'CreateDispatch',
      'CreateSIPParticipant',
    ]);
  });

  it('fails with the reason when the callee is busy', async () => {
    await withOutboundTrunk();
    server.failNext('CreateSIPParticipant', {
      code: 'unavailable',
      message: 'INVITE failed',
      meta: { sip_status_code: '486', sip_status: 'Busy Here' },
    });

    const outcome = await run('call.ts', ['+15557654321']);

    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toBe(
      'error: Could not call +15557654321: the phone network answered SIP 486 Busy Here.\n',
    );
  });
});

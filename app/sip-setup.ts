import { loadConfig } from '../config/load.ts';
import { requireLiveKit } from '../agent/sip/livekit-api.ts';
import { setUpSip, type SipSetupResult } from '../agent/sip/provision.ts';
import { parseCommandLine, runCommand, UsageError } from './cli.ts';

const USAGE = `Usage: npm run sip:setup -- --number <e164> [--number <e164>...] [--allowed <e164>...]
         [--outbound --address <host[:port]> [--username <user> --password <password>]] [--json]

Creates or updates, found by name, what LiveKit needs to connect phone calls to the agent
AGENT_NAME: the inbound trunk "<AGENT_NAME>-inbound" for your numbers, and the dispatch rule
"<AGENT_NAME>-dispatch" that puts each call in its own room and dispatches the agent. With
--outbound, also the outbound trunk "<AGENT_NAME>-outbound" that \`npm run call\` dials through.
Running it again changes only what differs. Needs LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET.

  --number <e164>      your number at the SIP provider, e.g. +15551234567 (repeat for several)
  --allowed <e164>     accept calls only from this caller (repeat; default: anyone may call)
  --outbound           also set up outbound calling
  --address <host>     the provider's SIP server for outbound calls, e.g. example.pstn.twilio.com
  --username <user>    the SIP username the provider gave you for outbound calls
  --password <pass>    its password; better set SIP_OUTBOUND_PASSWORD to keep it out of shell history
  --json               print the result as JSON`;

runCommand(async () => {
  const parsed = parseCommandLine(
    USAGE,
    {
      number: { type: 'string', multiple: true },
      allowed: { type: 'string', multiple: true },
      outbound: { type: 'boolean' },
      address: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      json: { type: 'boolean' },
    },
    { positionals: false },
  );
  if (!parsed) return;
  const { values } = parsed;
  if (!values.number?.length) throw new UsageError('Missing --number.', USAGE);
  if (!values.outbound && (values.address || values.username || values.password))
    throw new UsageError('--address, --username and --password go with --outbound.', USAGE);
  if (values.outbound && !values.address) throw new UsageError('--outbound needs --address.', USAGE);
  if (values.password && !values.username) throw new UsageError('--password needs --username.', USAGE);
  const config = loadConfig();
  // The flag wins over the configuration (environment or .env).
  const password = values.password ?? config.telephony.outboundPassword;
  if (values.username && !password)
    throw new UsageError('--username needs a password: set SIP_OUTBOUND_PASSWORD or pass --password.', USAGE);

  const livekit = requireLiveKit(config.livekit, 'npm run sip:setup');
  const result = await setUpSip(livekit, {
    agentName: config.agentName,
    numbers: values.number,
    allowedNumbers: values.allowed ?? [],
    outbound: values.outbound
      ? {
          address: values.address as string,
          username: values.username,
          password: values.username && password,
        }
      : undefined,
  });
  console.log(values.json ? JSON.stringify(result, null, 2) : describe(result));
});

function describe(result: SipSetupResult): string {
  const { inboundTrunk, dispatchRule, outboundTrunk } = result;
  const numbers = inboundTrunk.numbers.join(', ');
  const lines = [
    `Inbound trunk  "${inboundTrunk.name}" (${inboundTrunk.id}): ${inboundTrunk.change}`,
    `Dispatch rule  "${dispatchRule.name}" (${dispatchRule.id}): ${dispatchRule.change}`,
  ];
  if (outboundTrunk)
    lines.push(`Outbound trunk "${outboundTrunk.name}" (${outboundTrunk.id}): ${outboundTrunk.change}`);
  lines.push(
    '',
    'At your SIP provider:',
    `  1. Send incoming calls for ${numbers} to your LiveKit SIP endpoint (the provider's "origination" or`,
    '     "inbound" URI):',
    '       - LiveKit Cloud: the SIP URI on your project settings page, sip:<id>.sip.livekit.cloud',
    "       - this repository's docker compose: sip:<public IP of the host>:5060 (UDP or TCP); open UDP",
    '         10000-10100 to the host as well: that is where the call audio arrives.',
    `  2. LiveKit accepts calls to ${numbers} from ${
      inboundTrunk.allowedNumbers.length > 0 ? inboundTrunk.allowedNumbers.join(', ') : 'any caller'
    }.`,
    `     Each call gets its own room (${dispatchRule.roomPrefix}_<caller>_...) and the agent "${dispatchRule.agentName}" joins it:`,
    `     run the agent with AGENT_NAME=${dispatchRule.agentName}.`,
  );
  if (outboundTrunk)
    lines.push(
      `  3. For outbound calls LiveKit sends calls to ${outboundTrunk.address}` +
        (outboundTrunk.username ? ` as "${outboundTrunk.username}"` : ' without credentials') +
        ': create matching credentials',
      '     (or allow the LiveKit host by IP) at the provider, and let it use ' +
        `${outboundTrunk.numbers.join(', ')} as caller id.`,
      '     Then: npm run call -- <number to call>',
    );
  return lines.join('\n');
}

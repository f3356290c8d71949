import { loadConfig } from '../config/load.ts';
import { requireLiveKit } from '../agent/sip/livekit-api.ts';
import { placeOutboundCall, RINGING_TIMEOUT_SECONDS } from '../agent/sip/outbound-call.ts';
import { parseCommandLine, runCommand, UsageError } from './cli.ts';

const USAGE = `Usage: npm run call -- <e164> [--json]

The agent phones <e164> (e.g. +15551234567): a new room is created, the agent AGENT_NAME is
dispatched into it, and LiveKit dials the number through the outbound trunk
"<AGENT_NAME>-outbound" (set it up with: npm run sip:setup -- --number <yours> --outbound ...).
Waits until the call is answered or fails (the phone rings for up to ${RINGING_TIMEOUT_SECONDS} s).
  --json   print the room, dispatch and call ids as JSON`;

runCommand(async () => {
  const parsed = parseCommandLine(USAGE, { json: { type: 'boolean' } }, { positionals: true });
  if (!parsed) return;
  const [phoneNumber, ...extra] = parsed.positionals;
  if (!phoneNumber) throw new UsageError('Missing the number to call.', USAGE);
  if (extra.length > 0) throw new UsageError(`One number at a time (also got ${extra.join(' ')}).`, USAGE);

  const config = loadConfig();
  const livekit = requireLiveKit(config.livekit, 'npm run call');
  if (!parsed.values.json) console.log(`Calling ${phoneNumber}...`);
  const call = await placeOutboundCall(livekit, { agentName: config.agentName, phoneNumber });
  if (parsed.values.json) console.log(JSON.stringify(call));
  else
    console.log(
      `Answered. The agent "${config.agentName}" is talking to ${phoneNumber} in room ${call.roomName} ` +
        `(SIP call ${call.sipCallId}).`,
    );
});

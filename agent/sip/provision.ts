/**
 * `sip:setup`: makes LiveKit hold exactly the SIP resources this agent needs, creating
 * what is missing and updating what differs, found by name. Running it again with the
 * same options sends only list requests.
 */
import type { SipClient } from 'livekit-server-sdk';
import { callLiveKit, LiveKitError, liveKitClients, type LiveKitApiSettings } from './livekit-api.ts';
import { invalidNumbers } from './phone-number.ts';
import {
  agentRoomConfig,
  CALL_ROOM_PREFIX,
  dispatchRuleMatches,
  findByName,
  inboundTrunkChanges,
  outboundTrunkChanges,
  replacementDispatchRule,
  sipResourceNames,
  type DesiredOutboundTrunk,
} from './plan.ts';

/** What `sip:setup` should make LiveKit hold. */
export interface SipSetupOptions {
  /** `AGENT_NAME`: the dispatch rule dispatches it, and resource names derive from it. */
  agentName: string;
  /** Your numbers at the SIP provider, E.164. Calls to them are accepted. */
  numbers: readonly string[];
  /** Callers allowed to call, E.164; empty accepts any caller. */
  allowedNumbers?: readonly string[];
  /** When set, the outbound trunk `npm run call` dials through is provisioned too. */
  outbound?: { address: string; username?: string; password?: string };
}

/** What one run did to a resource. */
export type ResourceChange = 'created' | 'updated' | 'unchanged';

/** One provisioned resource: its name, LiveKit id and what this run did to it. */
export interface ProvisionedResource {
  name: string;
  id: string;
  change: ResourceChange;
}

/** What LiveKit holds after a run; passwords are never included. */
export interface SipSetupResult {
  inboundTrunk: ProvisionedResource & { numbers: string[]; allowedNumbers: string[] };
  dispatchRule: ProvisionedResource & { roomPrefix: string; agentName: string };
  outboundTrunk?: ProvisionedResource & { address: string; numbers: string[]; username: string };
}

/**
 * Creates or updates the inbound trunk, the dispatch rule that puts each call in its own
 * room with the agent, and (with `outbound`) the outbound trunk. Throws a
 * {@link LiveKitError} with a user-facing message on bad input or any API failure.
 */
export async function setUpSip(
  settings: LiveKitApiSettings,
  options: SipSetupOptions,
): Promise<SipSetupResult> {
  checkOptions(options);
  const { sip } = liveKitClients(settings);
  const call = <T>(action: string, run: () => Promise<T>) => callLiveKit(settings, action, run);
  const names = sipResourceNames(options.agentName);
  const numbers = [...options.numbers];
  const allowedNumbers = [...(options.allowedNumbers ?? [])];

  const inboundTrunks = await call('list the inbound SIP trunks', () => sip.listSipInboundTrunk());
  const existingTrunk = findByName(inboundTrunks, names.inboundTrunk, 'inbound trunk', (t) => t.sipTrunkId);
  let inboundTrunk: SipSetupResult['inboundTrunk'];
  if (!existingTrunk) {
    const created = await call('create the inbound SIP trunk', () =>
      sip.createSipInboundTrunk(names.inboundTrunk, numbers, { allowedNumbers }),
    );
    inboundTrunk = {
      name: names.inboundTrunk,
      id: created.sipTrunkId,
      change: 'created',
      numbers,
      allowedNumbers,
    };
  } else {
    const changes = inboundTrunkChanges(existingTrunk, { name: names.inboundTrunk, numbers, allowedNumbers });
    if (changes)
      await call('update the inbound SIP trunk', () =>
        sip.updateSipInboundTrunkFields(existingTrunk.sipTrunkId, changes),
      );
    const change = changes ? 'updated' : 'unchanged';
    inboundTrunk = {
      name: names.inboundTrunk,
      id: existingTrunk.sipTrunkId,
      change,
      numbers,
      allowedNumbers,
    };
  }

  const desiredRule = { name: names.dispatchRule, trunkId: inboundTrunk.id, agentName: options.agentName };
  const rules = await call('list the SIP dispatch rules', () => sip.listSipDispatchRule());
  const existingRule = findByName(rules, names.dispatchRule, 'dispatch rule', (r) => r.sipDispatchRuleId);
  let ruleId: string;
  let ruleChange: ResourceChange = 'unchanged';
  if (!existingRule) {
    const created = await call('create the SIP dispatch rule', () =>
      sip.createSipDispatchRule(
        { type: 'individual', roomPrefix: CALL_ROOM_PREFIX },
        {
          name: names.dispatchRule,
          trunkIds: [inboundTrunk.id],
          roomConfig: agentRoomConfig(options.agentName),
        },
      ),
    );
    [ruleId, ruleChange] = [created.sipDispatchRuleId, 'created'];
  } else {
    ruleId = existingRule.sipDispatchRuleId;
    if (!dispatchRuleMatches(existingRule, desiredRule)) {
      const replacement = replacementDispatchRule(existingRule, desiredRule);
      await call('update the SIP dispatch rule', () => sip.updateSipDispatchRule(ruleId, replacement));
      ruleChange = 'updated';
    }
  }
  const result: SipSetupResult = {
    inboundTrunk,
    dispatchRule: {
      name: names.dispatchRule,
      id: ruleId,
      change: ruleChange,
      roomPrefix: CALL_ROOM_PREFIX,
      agentName: options.agentName,
    },
  };

  if (options.outbound) {
    const desired: DesiredOutboundTrunk = {
      name: names.outboundTrunk,
      address: options.outbound.address,
      numbers,
      username: options.outbound.username ?? '',
      password: options.outbound.password ?? '',
    };
    result.outboundTrunk = await provisionOutboundTrunk(sip, call, desired);
  }
  return result;
}

async function provisionOutboundTrunk(
  sip: SipClient,
  call: <T>(action: string, run: () => Promise<T>) => Promise<T>,
  desired: DesiredOutboundTrunk,
): Promise<NonNullable<SipSetupResult['outboundTrunk']>> {
  const described = { name: desired.name, address: desired.address, numbers: [...desired.numbers] };
  const trunks = await call('list the outbound SIP trunks', () => sip.listSipOutboundTrunk());
  const existing = findByName(trunks, desired.name, 'outbound trunk', (t) => t.sipTrunkId);
  if (!existing) {
    const created = await call('create the outbound SIP trunk', () =>
      sip.createSipOutboundTrunk(desired.name, desired.address, [...desired.numbers], {
        // The SDK's default transport when options are given; written out because the type requires it.
        transport: 0,
        authUsername: desired.username,
        authPassword: desired.password,
      }),
    );
    return { ...described, id: created.sipTrunkId, change: 'created', username: desired.username };
  }
  const changes = outboundTrunkChanges(existing, desired);
  if (changes)
    await call('update the outbound SIP trunk', () =>
      sip.updateSipOutboundTrunkFields(existing.sipTrunkId, changes),
    );
  return {
    ...described,
    id: existing.sipTrunkId,
    change: changes ? 'updated' : 'unchanged',
    username: desired.username,
  };
}

function checkOptions(options: SipSetupOptions): void {
  const problems: string[] = [];
  if (options.numbers.length === 0) problems.push('at least one phone number is needed');
  const wrong = invalidNumbers([...options.numbers, ...(options.allowedNumbers ?? [])]);
  if (wrong.length > 0)
    problems.push(
      `not E.164 (like +15551234567, no spaces): ${wrong.map((n) => JSON.stringify(n)).join(', ')}`,
    );
  const outbound = options.outbound;
  if (outbound) {
    if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(outbound.address))
      problems.push(
        `the outbound address must be a host name or IP, optionally with :port (got "${outbound.address}")`,
      );
    if (!!outbound.username !== !!outbound.password)
      problems.push('give both a username and a password for the outbound trunk, or neither');
  }
  if (problems.length > 0) throw new LiveKitError(`Cannot set up SIP: ${problems.join('; ')}.`, false);
}

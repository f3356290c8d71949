/**
 * What the phone bridge wants LiveKit to hold, and how that differs from what it holds.
 * Pure functions over the SDK's message types: no I/O, so the provisioning module reads
 * as "list, compare, create or update" and these rules are tested on their own.
 */
import {
  RoomAgentDispatch,
  RoomConfiguration,
  SIPDispatchRule,
  SIPDispatchRuleIndividual,
  type SIPDispatchRuleInfo,
  type SIPInboundTrunkInfo,
  type SIPOutboundTrunkInfo,
  type SipInboundTrunkUpdateOptions,
  type SipOutboundTrunkUpdateOptions,
} from 'livekit-server-sdk';
import { LiveKitError } from './livekit-api.ts';

/**
 * Prefix of the rooms inbound calls land in. An "individual" dispatch rule gives each
 * call a new room: `call_<caller's number>_<random>` (LiveKit adds the underscores).
 */
export const CALL_ROOM_PREFIX = 'call';

/** Names of the SIP resources owned by one agent; provisioning finds them by these names. */
export function sipResourceNames(agentName: string) {
  return {
    inboundTrunk: `${agentName}-inbound`,
    dispatchRule: `${agentName}-dispatch`,
    outboundTrunk: `${agentName}-outbound`,
  } as const;
}

/** The inbound trunk we want: calls to `numbers`, from `allowedNumbers` (empty: any caller). */
export interface DesiredInboundTrunk {
  name: string;
  numbers: readonly string[];
  allowedNumbers: readonly string[];
}

/** The outbound trunk we want: the provider's SIP server and the credentials LiveKit dials with. */
export interface DesiredOutboundTrunk {
  name: string;
  /** Host (and optional `:port`) of the provider's SIP server. */
  address: string;
  /** Caller ids the provider lets us use; LiveKit picks one per call. */
  numbers: readonly string[];
  /** Empty when the provider authenticates us by IP address. */
  username: string;
  password: string;
}

/** The dispatch rule we want: each call to `trunkId` in its own room, with `agentName` dispatched. */
export interface DesiredDispatchRule {
  name: string;
  trunkId: string;
  agentName: string;
}

/**
 * The one item called `name`, undefined when there is none. Two or more is a state we did
 * not create and must not guess about, so it stops provisioning with what to delete.
 */
export function findByName<T extends { name: string }>(
  items: readonly T[],
  name: string,
  kind: string,
  idOf: (item: T) => string,
): T | undefined {
  const matches = items.filter((item) => item.name === name);
  if (matches.length > 1)
    throw new LiveKitError(
      `LiveKit has ${matches.length} ${kind}s named "${name}" (${matches.map(idOf).join(', ')}). ` +
        'Delete all but one (lk sip ... delete, or the LiveKit Cloud dashboard), then run this again.',
      false,
    );
  return matches[0];
}

/** Whether two lists hold the same values, in any order. */
export function sameItems(a: readonly string[], b: readonly string[]): boolean {
  const sorted = (list: readonly string[]) => [...new Set(list)].sort().join('\n');
  return sorted(a) === sorted(b);
}

type ListUpdate = NonNullable<SipInboundTrunkUpdateOptions['numbers']>;

/**
 * A `ListUpdate` that makes a list exactly `values`. An empty `set` would be dropped from
 * the JSON and refused by the server, so an empty list is written as `clear`. The SDK
 * types want its message class, which it does not export; protobuf-es turns this partial
 * object into the message when the request is built.
 */
function replaceList(values: readonly string[]): ListUpdate {
  const update: Partial<Pick<ListUpdate, 'set' | 'clear'>> =
    values.length > 0 ? { set: [...values] } : { clear: true };
  return update as ListUpdate;
}

/** The fields to update on an existing inbound trunk; undefined when it already matches. */
export function inboundTrunkChanges(
  existing: SIPInboundTrunkInfo,
  desired: DesiredInboundTrunk,
): SipInboundTrunkUpdateOptions | undefined {
  const changes: SipInboundTrunkUpdateOptions = {};
  if (!sameItems(existing.numbers, desired.numbers)) changes.numbers = replaceList(desired.numbers);
  if (!sameItems(existing.allowedNumbers, desired.allowedNumbers))
    changes.allowedNumbers = replaceList(desired.allowedNumbers);
  return Object.keys(changes).length > 0 ? changes : undefined;
}

/**
 * Update fields of `SIPOutboundTrunkUpdate`. The SDK's options type lacks `address`,
 * which the message has; it passes the object through to the message unchanged.
 */
export type OutboundTrunkChanges = SipOutboundTrunkUpdateOptions & { address?: string };

/**
 * The fields to update on an existing outbound trunk; undefined when it already matches.
 * A password the server does not return (empty) is sent again, since we cannot compare it.
 */
export function outboundTrunkChanges(
  existing: SIPOutboundTrunkInfo,
  desired: DesiredOutboundTrunk,
): OutboundTrunkChanges | undefined {
  const changes: OutboundTrunkChanges = {};
  if (existing.address !== desired.address) changes.address = desired.address;
  if (!sameItems(existing.numbers, desired.numbers)) changes.numbers = replaceList(desired.numbers);
  if (existing.authUsername !== desired.username) changes.authUsername = desired.username;
  if (existing.authPassword !== desired.password || (desired.password && !existing.authPassword))
    changes.authPassword = desired.password;
  return Object.keys(changes).length > 0 ? changes : undefined;
}

/** The rule part of the dispatch rule: one new room per call. */
export function callRoomRule(): SIPDispatchRule {
  return new SIPDispatchRule({
    rule: {
      case: 'dispatchRuleIndividual',
      value: new SIPDispatchRuleIndividual({ roomPrefix: CALL_ROOM_PREFIX }),
    },
  });
}

/** Room configuration that dispatches exactly this agent into each new room. */
export function agentRoomConfig(agentName: string, base?: RoomConfiguration): RoomConfiguration {
  const config = base ? base.clone() : new RoomConfiguration();
  config.agents = [new RoomAgentDispatch({ agentName })];
  return config;
}

/** Whether an existing dispatch rule already does what `desired` asks. */
export function dispatchRuleMatches(existing: SIPDispatchRuleInfo, desired: DesiredDispatchRule): boolean {
  const agents = existing.roomConfig?.agents ?? [];
  return (
    (existing.rule?.equals(callRoomRule()) ?? false) &&
    !existing.hidePhoneNumber &&
    sameItems(existing.trunkIds, [desired.trunkId]) &&
    agents.length === 1 &&
    agents[0]?.agentName === desired.agentName &&
    !agents[0]?.metadata
  );
}

/**
 * The full replacement for an existing dispatch rule that does not match: its other fields
 * (attributes, other room settings) are kept, ours are set. The caller's number stays
 * visible because it is how the assistant recognises a person across calls.
 */
export function replacementDispatchRule(
  existing: SIPDispatchRuleInfo,
  desired: DesiredDispatchRule,
): SIPDispatchRuleInfo {
  const rule = existing.clone();
  rule.rule = callRoomRule();
  rule.trunkIds = [desired.trunkId];
  rule.hidePhoneNumber = false;
  rule.roomConfig = agentRoomConfig(desired.agentName, existing.roomConfig);
  return rule;
}

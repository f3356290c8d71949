/**
 * A wire-level fake of LiveKit's server API: Twirp over HTTP, `POST /twirp/livekit.<Service>/<Method>`
 * with JSON bodies and a Bearer JWT signed with the API secret. It covers what the phone
 * bridge uses (SIP trunks, dispatch rules, outbound calls, transfers, agent dispatch, room
 * deletion), keeps their state so list/create/update behave like the real server, answers
 * in the real server's encoding (snake_case field names, defaults emitted) and records
 * every request with its decoded body and verified grants.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AgentDispatch,
  SIPDispatchRuleInfo,
  SIPInboundTrunkInfo,
  SIPOutboundTrunkInfo,
  SIPParticipantInfo,
  TokenVerifier,
} from 'livekit-server-sdk';
import type { ClaimGrants } from 'livekit-server-sdk';
import { readBody, sendJson, startHttpServer } from './http-server.ts';
import { now, sleep } from './timing.ts';

/** Twirp error codes the fake answers with, and their HTTP statuses (from the Twirp spec). */
const twirpStatus = {
  invalid_argument: 400,
  malformed: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  bad_route: 404,
  already_exists: 409,
  failed_precondition: 412,
  resource_exhausted: 429,
  internal: 500,
  unimplemented: 501,
  unavailable: 503,
} as const;
/** A Twirp error code, e.g. `not_found`. */
export type TwirpCode = keyof typeof twirpStatus;

/** An error the fake answers with; `meta` carries e.g. `sip_status_code` for failed calls. */
export interface TwirpFault {
  code: TwirpCode;
  message: string;
  meta?: Record<string, string>;
}

class TwirpFailure extends Error {
  constructor(readonly fault: TwirpFault) {
    super(fault.message);
  }
}
function fail(code: TwirpCode, message: string): never {
  throw new TwirpFailure({ code, message });
}

/** One request as the fake received it. */
export interface RecordedTwirpRequest {
  /** Twirp service without the package, e.g. `SIP`, `AgentDispatchService`, `RoomService`. */
  service: string;
  /** e.g. `CreateSIPInboundTrunk`. */
  method: string;
  /** The JSON body exactly as sent (field names as the client wrote them). */
  body: Record<string, unknown>;
  /** Claims of the verified token; undefined when the token was missing or invalid. */
  grants: ClaimGrants | undefined;
  /** HTTP status the fake answered with. */
  status: number;
  /** `performance.now()` at arrival, in milliseconds. */
  receivedAt: number;
}

/** Settings of the fake; every field has a default. */
export interface LiveKitApiServerOptions {
  /** Defaults to `fakeLiveKitCredentials.apiKey`. */
  apiKey?: string;
  /** Defaults to `fakeLiveKitCredentials.apiSecret`. */
  apiSecret?: string;
  /** Milliseconds to wait before every answer (default 0). */
  latencyMs?: number;
}

/** A running fake. State arrays are live: tests may seed or inspect them. */
export interface LiveKitApiServer {
  /** `http://127.0.0.1:PORT`; the SDK accepts it (or its `ws://` form) as the LiveKit URL. */
  readonly url: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  latencyMs: number;
  readonly requests: RecordedTwirpRequest[];
  readonly inboundTrunks: SIPInboundTrunkInfo[];
  readonly outboundTrunks: SIPOutboundTrunkInfo[];
  readonly dispatchRules: SIPDispatchRuleInfo[];
  readonly dispatches: AgentDispatch[];
  /** SIP participants currently in rooms (dialled out, or added with {@link addSipParticipant}). */
  readonly participants: SIPParticipantInfo[];
  readonly rooms: Set<string>;
  /** Puts a SIP caller in a room, as an inbound call would. */
  addSipParticipant(roomName: string, identity: string): SIPParticipantInfo;
  /** Makes the next call of `method` (e.g. `CreateSIPParticipant`) fail with `fault` (queued per method). */
  failNext(method: string, fault: TwirpFault): void;
  /** Recorded requests of one method. */
  requestsTo(method: string): RecordedTwirpRequest[];
  /** Recorded requests that could change state: everything but `List*` and `Get*`. */
  mutations(): RecordedTwirpRequest[];
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
/** protobuf-es's JSON value type, named without depending on @bufbuild/protobuf directly. */
type JsonValue = Parameters<typeof SIPInboundTrunkInfo.fromJson>[0];
interface Route {
  allowed(grants: ClaimGrants, body: Json): boolean;
  handle(body: Json): unknown;
}

/** Reads a field by its JSON (lowerCamelCase) name or its proto (snake_case) name, as protojson does. */
function field(body: Json, name: string): unknown {
  return body[name] ?? body[name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)];
}
const text = (body: Json, name: string): string => {
  const value = field(body, name);
  return typeof value === 'string' ? value : '';
};
const object = (body: Json, name: string): Json | undefined => {
  const value = field(body, name);
  return value && typeof value === 'object' ? (value as Json) : undefined;
};
const digits = (number: string) => number.replace(/\D/g, '');
const overlaps = (a: readonly string[], b: readonly string[]) =>
  a.some((x) => b.some((y) => digits(x) === digits(y)));
function removeWhere<T>(list: T[], predicate: (item: T) => boolean): void {
  for (let index = list.length - 1; index >= 0; index--)
    if (predicate(list[index] as T)) list.splice(index, 1);
}

/** `ListUpdate` semantics and validation of livekit/protocol (livekit/types.go). */
function applyListUpdate(current: string[], update: Json | undefined): string[] {
  if (!update) return current;
  const list = (name: string) => (field(update, name) as string[] | undefined) ?? [];
  const [set, add, remove, clear] = [
    list('set'),
    list('add'),
    list('remove'),
    field(update, 'clear') === true,
  ];
  const change = set.length + add.length + remove.length > 0;
  if (!clear && !change) fail('invalid_argument', 'unsupported list update operation');
  if (clear && change) fail('invalid_argument', 'cannot clear and change the list at the same time');
  if (set.length > 0 && add.length + remove.length > 0)
    fail('invalid_argument', 'cannot set and change the list at the same time');
  if (clear) return [];
  if (set.length > 0) return [...set];
  return [
    ...current.filter((item) => !remove.includes(item)),
    ...add.filter((item) => !current.includes(item)),
  ];
}

/** Applies the optional scalar fields of an `...Update` message that are present in the JSON. */
function applyOptional(target: object, update: Json, names: readonly string[]): void {
  for (const name of names) {
    const value = field(update, name);
    if (value !== undefined) (target as Json)[name] = value;
  }
}

/** The key and secret LiveKit fakes accept unless told otherwise: the same for all, like one LiveKit. */
export const fakeLiveKitCredentials = {
  apiKey: 'fake-api-key',
  apiSecret: 'fake-api-secret-of-at-least-32-characters',
} as const;

/** Starts the fake on 127.0.0.1 with a random port. */
export async function startLiveKitApiServer(
  options: LiveKitApiServerOptions = {},
): Promise<LiveKitApiServer> {
  const apiKey = options.apiKey ?? fakeLiveKitCredentials.apiKey;
  const apiSecret = options.apiSecret ?? fakeLiveKitCredentials.apiSecret;
  const verifier = new TokenVerifier(apiKey, apiSecret);
  const requests: RecordedTwirpRequest[] = [];
  const faults = new Map<string, TwirpFault[]>();
  const inboundTrunks: SIPInboundTrunkInfo[] = [];
  const outboundTrunks: SIPOutboundTrunkInfo[] = [];
  const dispatchRules: SIPDispatchRuleInfo[] = [];
  const dispatches: AgentDispatch[] = [];
  const participants: SIPParticipantInfo[] = [];
  const rooms = new Set<string>();
  let sequence = 0;
  const newId = (prefix: string) => `${prefix}_${String(++sequence).padStart(12, '0')}`;

  const sipAdmin = (grants: ClaimGrants) => grants.sip?.admin === true;
  const roomAdmin = (grants: ClaimGrants, room: string) =>
    grants.video?.roomAdmin === true && grants.video.room === room;

  const findTrunk = <T extends { sipTrunkId: string }>(list: T[], id: string): T =>
    list.find((trunk) => trunk.sipTrunkId === id) ?? fail('not_found', 'requested sip trunk does not exist');
  const findRule = (id: string) =>
    dispatchRules.find((rule) => rule.sipDispatchRuleId === id) ??
    fail('not_found', 'requested sip dispatch rule does not exist');

  /** The real server refuses two inbound trunks that would both match the same call. */
  function checkInboundConflicts(trunk: SIPInboundTrunkInfo): void {
    for (const other of inboundTrunks) {
      if (other.sipTrunkId === trunk.sipTrunkId || !overlaps(other.numbers, trunk.numbers)) continue;
      const bothOpen = other.allowedNumbers.length === 0 && trunk.allowedNumbers.length === 0;
      if (bothOpen || overlaps(other.allowedNumbers, trunk.allowedNumbers))
        fail('invalid_argument', `Conflicting inbound SIP Trunks: "${other.sipTrunkId}" and "<new>"`);
    }
  }
  /** ...and two dispatch rules for the same trunk (an empty trunk list means every trunk) and PIN. */
  function checkRuleConflicts(rule: SIPDispatchRuleInfo): void {
    const pin = (info: SIPDispatchRuleInfo) =>
      (info.rule?.rule.value as { pin?: string } | undefined)?.pin ?? '';
    for (const other of dispatchRules) {
      if (other.sipDispatchRuleId === rule.sipDispatchRuleId) continue;
      const sameTrunks =
        other.trunkIds.length === 0 ||
        rule.trunkIds.length === 0 ||
        other.trunkIds.some((id) => rule.trunkIds.includes(id));
      if (sameTrunks && pin(other) === pin(rule))
        fail('invalid_argument', `Conflicting SIP Dispatch Rules: "${other.sipDispatchRuleId}" and "<new>"`);
    }
  }

  const routes: Record<string, Route> = {
    'SIP/ListSIPInboundTrunk': { allowed: sipAdmin, handle: () => ({ items: inboundTrunks }) },
    'SIP/ListSIPOutboundTrunk': { allowed: sipAdmin, handle: () => ({ items: outboundTrunks }) },
    'SIP/ListSIPDispatchRule': { allowed: sipAdmin, handle: () => ({ items: dispatchRules }) },
    'SIP/CreateSIPInboundTrunk': {
      allowed: sipAdmin,
      handle(body) {
        const trunk = SIPInboundTrunkInfo.fromJson((object(body, 'trunk') ?? {}) as JsonValue);
        if (trunk.sipTrunkId) fail('invalid_argument', 'trunk ID must be empty');
        checkInboundConflicts(trunk);
        trunk.sipTrunkId = newId('ST');
        inboundTrunks.push(trunk);
        return trunk;
      },
    },
    'SIP/CreateSIPOutboundTrunk': {
      allowed: sipAdmin,
      handle(body) {
        const trunk = SIPOutboundTrunkInfo.fromJson((object(body, 'trunk') ?? {}) as JsonValue);
        if (trunk.sipTrunkId) fail('invalid_argument', 'trunk ID must be empty');
        if (!trunk.address) fail('invalid_argument', 'no trunk address specified');
        trunk.sipTrunkId = newId('ST');
        outboundTrunks.push(trunk);
        return trunk;
      },
    },
    'SIP/UpdateSIPInboundTrunk': {
      allowed: sipAdmin,
      handle(body) {
        const current = findTrunk(inboundTrunks, text(body, 'sipTrunkId'));
        const next = updated(current, body, SIPInboundTrunkInfo, {
          lists: ['numbers', 'allowedAddresses', 'allowedNumbers'],
          scalars: ['authUsername', 'authPassword', 'name', 'metadata'],
        });
        checkInboundConflicts(next);
        inboundTrunks[inboundTrunks.indexOf(current)] = next;
        return next;
      },
    },
    'SIP/UpdateSIPOutboundTrunk': {
      allowed: sipAdmin,
      handle(body) {
        const current = findTrunk(outboundTrunks, text(body, 'sipTrunkId'));
        const next = updated(current, body, SIPOutboundTrunkInfo, {
          lists: ['numbers'],
          scalars: ['address', 'destinationCountry', 'authUsername', 'authPassword', 'name', 'metadata'],
        });
        outboundTrunks[outboundTrunks.indexOf(current)] = next;
        return next;
      },
    },
    'SIP/CreateSIPDispatchRule': {
      allowed: sipAdmin,
      handle(body) {
        // Newer clients nest the rule in `dispatchRule`; the SDK sends the flat, older form.
        const source = object(body, 'dispatchRule') ?? body;
        if (!object(source, 'rule')) fail('invalid_argument', 'missing dispatch rule');
        const rule = SIPDispatchRuleInfo.fromJson(source as JsonValue, { ignoreUnknownFields: true });
        checkRuleConflicts(rule);
        rule.sipDispatchRuleId = newId('SDR');
        dispatchRules.push(rule);
        return rule;
      },
    },
    'SIP/UpdateSIPDispatchRule': {
      allowed: sipAdmin,
      handle(body) {
        const current = findRule(text(body, 'sipDispatchRuleId'));
        const next = updated(current, body, SIPDispatchRuleInfo, {
          lists: ['trunkIds'],
          scalars: ['name', 'metadata'],
        });
        checkRuleConflicts(next);
        dispatchRules[dispatchRules.indexOf(current)] = next;
        return next;
      },
    },
    'SIP/CreateSIPParticipant': {
      allowed: (grants) => grants.sip?.call === true,
      handle(body) {
        findTrunk(outboundTrunks, text(body, 'sipTrunkId'));
        const roomName = text(body, 'roomName');
        if (!roomName || !text(body, 'sipCallTo'))
          fail('invalid_argument', 'missing room name or number to call');
        return addParticipant(roomName, text(body, 'participantIdentity') || 'sip-participant');
      },
    },
    'SIP/TransferSIPParticipant': {
      allowed: (grants, body) => grants.sip?.call === true && roomAdmin(grants, text(body, 'roomName')),
      handle(body) {
        const [roomName, identity] = [text(body, 'roomName'), text(body, 'participantIdentity')];
        if (!/^(tel|sip):/.test(text(body, 'transferTo')))
          fail('invalid_argument', 'transfer_to must be a tel: or sip: URI');
        const index = participants.findIndex(
          (p) => p.roomName === roomName && p.participantIdentity === identity,
        );
        if (index < 0) fail('not_found', 'participant does not exist');
        participants.splice(index, 1); // the caller leaves the room once the transfer is accepted
        return {};
      },
    },
    'AgentDispatchService/CreateDispatch': {
      allowed: (grants, body) => roomAdmin(grants, text(body, 'room')),
      handle(body) {
        const dispatch = new AgentDispatch({
          id: newId('AD'),
          agentName: text(body, 'agentName'),
          room: text(body, 'room'),
          metadata: text(body, 'metadata'),
        });
        rooms.add(dispatch.room); // room auto-creation, the server's default
        dispatches.push(dispatch);
        return dispatch;
      },
    },
    'RoomService/DeleteRoom': {
      allowed: (grants) => grants.video?.roomCreate === true,
      handle(body) {
        const room = text(body, 'room');
        if (!rooms.delete(room)) fail('not_found', 'requested room does not exist');
        removeWhere(participants, (participant) => participant.roomName === room);
        removeWhere(dispatches, (dispatch) => dispatch.room === room);
        return {};
      },
    },
    'RoomService/RemoveParticipant': {
      allowed: (grants, body) => roomAdmin(grants, text(body, 'room')),
      handle(body) {
        const [room, identity] = [text(body, 'room'), text(body, 'identity')];
        const before = participants.length;
        removeWhere(participants, (p) => p.roomName === room && p.participantIdentity === identity);
        if (participants.length === before) fail('not_found', 'participant does not exist');
        return {};
      },
    },
  };

  /**
   * `replace` swaps the whole object, keeping its id; `update` applies the list updates
   * and the optional scalar fields present (the `...Update` messages of livekit/protocol).
   */
  function updated<T extends SIPInboundTrunkInfo | SIPOutboundTrunkInfo | SIPDispatchRuleInfo>(
    current: T,
    body: Json,
    type: { fromJson(json: JsonValue): T },
    fields: { lists: readonly string[]; scalars: readonly string[] },
  ): T {
    const replacement = object(body, 'replace');
    const update = object(body, 'update');
    if (!replacement && !update) fail('invalid_argument', 'missing or unsupported action');
    const next = replacement ? type.fromJson(replacement as JsonValue) : (current.clone() as T);
    if (update) {
      for (const list of fields.lists)
        (next as unknown as Json)[list] = applyListUpdate(
          (next as unknown as Json)[list] as string[],
          object(update, list),
        );
      applyOptional(next, update, fields.scalars);
    }
    if ('sipTrunkId' in current) (next as SIPInboundTrunkInfo).sipTrunkId = current.sipTrunkId;
    else (next as SIPDispatchRuleInfo).sipDispatchRuleId = (current as SIPDispatchRuleInfo).sipDispatchRuleId;
    return next as T;
  }

  function addParticipant(roomName: string, identity: string): SIPParticipantInfo {
    rooms.add(roomName);
    const participant = new SIPParticipantInfo({
      participantId: newId('PA'),
      participantIdentity: identity,
      roomName,
      sipCallId: newId('SCL'),
    });
    participants.push(participant);
    return participant;
  }

  async function answer(request: IncomingMessage, response: ServerResponse, signal: AbortSignal) {
    const receivedAt = now();
    const match = /^\/twirp\/livekit\.([A-Za-z]+)\/([A-Za-z]+)$/.exec(request.url ?? '');
    const [service, method] = [match?.[1] ?? '', match?.[2] ?? ''];
    const raw = (await readBody(request)).toString('utf8');
    const record: RecordedTwirpRequest = {
      service,
      method,
      body: {},
      grants: undefined,
      status: 200,
      receivedAt,
    };
    requests.push(record);
    let reply: unknown;
    try {
      const route = routes[`${service}/${method}`];
      if (request.method !== 'POST' || !route)
        fail('bad_route', `no handler for ${request.method} ${request.url}`);
      if (!/^application\/json\b/.test(request.headers['content-type'] ?? ''))
        fail('bad_route', 'unexpected Content-Type; this fake speaks JSON only');
      try {
        record.body = JSON.parse(raw || '{}') as Json;
      } catch {
        fail('malformed', 'the json request could not be decoded');
      }
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (!token) fail('unauthenticated', 'invalid authorization header. Must start with Bearer ');
      record.grants = (await verifier.verify(token as string).catch(() => undefined)) as
        ClaimGrants | undefined;
      if (!record.grants) fail('unauthenticated', 'invalid token');
      if (!route?.allowed(record.grants as ClaimGrants, record.body))
        fail('unauthenticated', 'permissions denied');
      const fault = faults.get(method)?.shift();
      if (fault) throw new TwirpFailure(fault);
      reply = route?.handle(record.body);
    } catch (error) {
      const fault =
        error instanceof TwirpFailure ? error.fault : { code: 'internal' as const, message: String(error) };
      reply = { code: fault.code, msg: fault.message, ...(fault.meta && { meta: fault.meta }) };
      record.status = twirpStatus[fault.code];
    }
    await sleep(server.latencyMs, signal);
    sendJson(response, record.status, record.status === 200 ? toWire(reply) : reply);
  }

  const http = await startHttpServer((request, response, { signal }) => answer(request, response, signal));
  const server: LiveKitApiServer = {
    url: http.origin,
    apiKey,
    apiSecret,
    latencyMs: options.latencyMs ?? 0,
    requests,
    inboundTrunks,
    outboundTrunks,
    dispatchRules,
    dispatches,
    participants,
    rooms,
    addSipParticipant: addParticipant,
    failNext(method, fault) {
      faults.set(method, [...(faults.get(method) ?? []), fault]);
    },
    requestsTo: (method) => requests.filter((request) => request.method === method),
    mutations: () => requests.filter((request) => !/^(List|Get)/.test(request.method)),
    close: () => http.close(),
  };
  return server;
}

/** Serializes like the Go server's Twirp JSON: proto field names, defaults emitted. */
function toWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object') {
    if ('toJson' in value && typeof value.toJson === 'function')
      return (value as SIPInboundTrunkInfo).toJson({ useProtoFieldName: true, emitDefaultValues: true });
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toWire(item)]));
  }
  return value;
}

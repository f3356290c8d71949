import type {
  ApiError,
  EraseResponse,
  PhoneLinkResponse,
  SessionResponse,
  UploadResponse,
  VoiceChoiceResponse,
  VoicesResponse,
} from '../../../protocol/index.ts';
import { PlainError } from './transport.ts';

/** The server wants the access key before anything else. */
export class AccessKeyRequired extends PlainError {
  override name = 'AccessKeyRequired';
}

/** A request to the API; refusals become PlainError with the server's words. */
async function send(path: string, init: RequestInit = {}): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(path, { credentials: 'same-origin', ...init });
  } catch {
    throw new PlainError('The server cannot be reached. Check that it is running, then reload the page.');
  }
  if (response.ok) return response;
  const json = (await response.json().catch(() => undefined)) as Partial<ApiError> | undefined;
  if (json?.error === 'access_key_required')
    throw new AccessKeyRequired(json.message ?? 'The access key is needed.');
  throw new PlainError(json?.message ?? `The server answered ${response.status} ${response.statusText}.`);
}

async function post<T>(path: string, body?: unknown): Promise<T> {
  const response = await send(path, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (response.status === 204) return undefined as T;
  const json = (await response.json().catch(() => undefined)) as T | undefined;
  if (json) return json;
  throw new PlainError(`The server answered ${response.status} without a body.`);
}

/** How to reach the assistant now (a new LiveKit token each time). */
export const requestSession = () => post<SessionResponse>('/api/session');

export const giveAccessKey = (key: string) => post<void>('/api/access', { key });

export const eraseEverything = () => post<EraseResponse>('/api/erase', { confirm: true });

/** The voices the assistant can answer in, and the one in use. */
export const listVoices = async () => (await send('/api/voices')).json() as Promise<VoicesResponse>;

/** Remembers the voice for this person; the next answer uses it. */
export const chooseVoice = (voiceId: string) => post<VoiceChoiceResponse>('/api/voice', { voiceId });

/** A short sample of a voice, as audio the page can play. */
export const fetchVoicePreview = async (voiceId: string) =>
  (await send(`/api/voices/${encodeURIComponent(voiceId)}/preview`)).blob();

/** An eight-digit code to say on a phone call, so that number joins this account. */
export const requestPhoneLink = () => post<PhoneLinkResponse>('/api/phone-link');

/**
 * Uploads a file with progress (fetch cannot report upload progress, XMLHttpRequest can).
 * Refusals (too large, unsupported type) come back as PlainError with the server's words.
 */
export function uploadFile(
  url: string,
  file: File,
  onProgress: (sentFraction: number) => void,
): Promise<UploadResponse> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', url);
    request.responseType = 'json';
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      const body = request.response as (UploadResponse & Partial<ApiError>) | null;
      if (request.status >= 200 && request.status < 300 && body) resolve(body);
      else if (request.status === 413)
        reject(new PlainError(body?.message ?? `"${file.name}" is larger than the server accepts.`));
      else reject(new PlainError(body?.message ?? `The upload failed (${request.status}).`));
    };
    request.onerror = () =>
      reject(
        new PlainError(`"${file.name}" could not be sent. It may be too large, or the connection dropped.`),
      );
    const form = new FormData();
    form.append('file', file, file.name);
    request.send(form);
  });
}

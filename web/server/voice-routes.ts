import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { createVoiceLibrary, ProviderConfigurationError } from '../../agent/provider-settings.ts';
import { VoiceCatalog } from '../../agent/voice-library.ts';
import type { Config } from '../../config/load.ts';
import {
  findUserByIdentity,
  findVoiceChoice,
  resolveUser,
  saveVoiceChoice,
  type Database,
} from '../../db/index.ts';
import { isUserFacing, type VoiceChoiceResponse, type VoicesResponse } from '../../protocol/index.ts';
import { identityOf } from './api-guards.ts';
import type { ConversationRegistry } from './conversation-registry.ts';
import { refuse } from './replies.ts';

export interface VoiceRouteOptions {
  config: Config;
  database: Database;
  registry: ConversationRegistry;
  logger?: Logger;
}

const voiceIdSchema = z.string().trim().min(1).max(200);
const choiceSchema = z.strictObject({ voiceId: voiceIdSchema });

/**
 * The voice picker's routes, inside the guarded `/api` plugin:
 * - `GET /voices`: the voices of the configured text to speech and the one in use;
 * - `POST /voice {"voiceId"}`: remembers the choice for this person (a linked phone is the
 *   same person) and switches their live direct-mode conversations from the next answer;
 * - `GET /voices/:voiceId/preview`: a short WAV sample, cached per voice, and limited per
 *   browser since every uncached preview is paid for at the provider.
 * When the provider's list fails the routes say so (503); conversations are not touched.
 */
export function registerVoiceRoutes(app: FastifyInstance, options: VoiceRouteOptions): void {
  const { database, registry, logger } = options;
  const catalog = createCatalog(options.config);

  app.get(
    '/voices',
    { config: { rateLimit: { max: 30, timeWindow: '1 minute' } } },
    async (request, reply) => {
      if (!(catalog instanceof VoiceCatalog)) return refuseUnavailable(reply, catalog.message);
      try {
        const voices = await catalog.list();
        const userId = await findUserByIdentity(database.pool, { kind: 'web', value: identityOf(request) });
        const chosen = userId ? await findVoiceChoice(database.pool, userId, catalog.provider) : undefined;
        const body: VoicesResponse = {
          provider: catalog.provider,
          voices,
          current: chosen ?? catalog.defaultVoiceId,
        };
        return reply.send(body);
      } catch (error) {
        return refuseError(reply, error, logger);
      }
    },
  );

  app.post(
    '/voice',
    { config: { rateLimit: { max: 20, timeWindow: '1 minute' } } },
    async (request, reply) => {
      if (!(catalog instanceof VoiceCatalog)) return refuseUnavailable(reply, catalog.message);
      const parsed = choiceSchema.safeParse(request.body);
      if (!parsed.success)
        return refuse(
          reply,
          400,
          'bad_request',
          'Send the voice as {"voiceId": "..."}, one of GET /api/voices.',
        );
      try {
        const voice = await catalog.find(parsed.data.voiceId);
        const userId = await resolveUser(database.pool, { kind: 'web', value: identityOf(request) });
        await saveVoiceChoice(database.pool, userId, catalog.provider, voice.id);
        // Live conversations in this process (the direct transport) switch now; LiveKit
        // sessions run elsewhere and are told by the page (protocol/livekit.ts).
        await Promise.all(
          registry
            .ofUser(userId)
            .map((entry) =>
              entry.conversation
                .useVoice(voice.id)
                .catch((error: unknown) =>
                  logger?.warn({ err: error }, 'a live conversation kept its voice'),
                ),
            ),
        );
        const body: VoiceChoiceResponse = { voice };
        return reply.send(body);
      } catch (error) {
        return refuseError(reply, error, logger);
      }
    },
  );

  app.get(
    '/voices/:voiceId/preview',
    {
      config: {
        rateLimit: {
          max: 10,
          timeWindow: '1 minute',
          keyGenerator: (request) => `voice-preview:${identityOf(request)}`,
        },
      },
    },
    async (request, reply) => {
      if (!(catalog instanceof VoiceCatalog)) return refuseUnavailable(reply, catalog.message);
      const voiceId = voiceIdSchema.safeParse((request.params as { voiceId?: unknown }).voiceId);
      if (!voiceId.success) return refuse(reply, 400, 'bad_request', 'Name a voice to preview.');
      try {
        const audio = await catalog.preview(voiceId.data);
        reply.header('content-type', 'audio/wav');
        reply.header('cache-control', 'private, max-age=3600');
        return reply.send(audio);
      } catch (error) {
        return refuseError(reply, error, logger);
      }
    },
  );
}

/** The catalog, or why there is none (text to speech is not set up). */
function createCatalog(config: Config): VoiceCatalog | ProviderConfigurationError {
  try {
    return new VoiceCatalog(createVoiceLibrary(config));
  } catch (error) {
    if (error instanceof ProviderConfigurationError) return error;
    throw error;
  }
}

function refuseUnavailable(reply: FastifyReply, message: string): FastifyReply {
  return refuse(reply, 503, 'voices_unavailable', `Voices cannot be chosen yet: ${message}`);
}

/** Errors written for people go back as they are (an unknown voice: 400; a provider failing: 503). */
function refuseError(reply: FastifyReply, error: unknown, logger: Logger | undefined): FastifyReply {
  if (!isUserFacing(error)) throw error;
  if (error.retryable) logger?.warn({ err: error.cause ?? error }, error.message);
  return refuse(reply, error.retryable ? 503 : 400, error.code.replaceAll('-', '_'), error.message);
}

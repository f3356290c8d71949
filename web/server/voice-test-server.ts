import { createConfiguredEmbedder } from '../../agent/provider-settings.ts';
import type { Fakes } from '../../test/fakes/index.ts';
import { sharedModels } from '../../test/support/voice-harness.ts';
import type { StartConversation } from './conversation.ts';
import { ConversationPool, type ConversationPoolOptions } from './conversation-pool.ts';
import { startTestServer, type TestServer } from './test-server.ts';
import { voiceConversations } from './voice-conversation.ts';

/**
 * A test server whose direct-mode conversations are real voice sessions (the agent's
 * room-less session) over the wire fakes, with `env` on top of the fakes' settings.
 */
export async function startVoiceTestServer(
  fakes: Fakes,
  env: Record<string, string> = {},
  options: { pool?: PoolOptions } = {},
): Promise<TestServer & { pool: ConversationPool | undefined }> {
  let start: StartConversation = () => Promise.reject(new Error('not ready'));
  const server = await startTestServer({
    // A conversation process logs as the configured level says (TEST_AGENT_LOG_LEVEL=info shows it).
    env: { ...fakes.environment, LOG_LEVEL: process.env.TEST_AGENT_LOG_LEVEL ?? 'fatal', ...env },
    embeddingDimensions: fakes.openai.embedding.dimensions,
    startConversation: (userId, channel) => start(userId, channel),
  });
  const pool = options.pool
    ? new ConversationPool({ config: server.config, database: server.test.database, ...options.pool })
    : undefined;
  start =
    pool?.start ??
    voiceConversations({
      config: server.config,
      database: server.test.database,
      models: sharedModels,
      embedder: createConfiguredEmbedder(server.config),
    });
  await pool?.ready();
  return {
    ...server,
    pool,
    async close() {
      await server.web.close();
      await pool?.close();
      await server.close();
    },
  };
}

/** Conversations in processes of their own, as `npm start` runs them (web/server/conversation-pool.ts). */
type PoolOptions = Omit<ConversationPoolOptions, 'config' | 'database'>;

import { createConfiguredEmbedder } from '../../agent/provider-settings.ts';
import type { Fakes } from '../../test/fakes/index.ts';
import { sharedModels } from '../../test/support/voice-harness.ts';
import type { StartConversation } from './conversation.ts';
import { startTestServer, type TestServer } from './test-server.ts';
import { voiceConversations } from './voice-conversation.ts';

/**
 * A test server whose direct-mode conversations are real voice sessions (the agent's
 * room-less session) over the wire fakes, with `env` on top of the fakes' settings.
 */
export async function startVoiceTestServer(
  fakes: Fakes,
  env: Record<string, string> = {},
): Promise<TestServer> {
  let start: StartConversation = () => Promise.reject(new Error('not ready'));
  const server = await startTestServer({
    env: { ...fakes.environment, ...env },
    embeddingDimensions: fakes.openai.embedding.dimensions,
    startConversation: (userId, channel) => start(userId, channel),
  });
  start = voiceConversations({
    config: server.config,
    database: server.test.database,
    models: sharedModels,
    embedder: createConfiguredEmbedder(server.config),
  });
  return server;
}

import { describeCapabilities } from '../agent/provider-settings.ts';
import { loadConfig } from '../config/load.ts';
import { runCommand } from './cli.ts';
import { describeDatabase } from './open-database.ts';
import { serve } from './serve.ts';

/**
 * `npm start`: the whole assistant on one machine (see app/serve.ts), then the URL to
 * open. Ctrl-C ends live conversations (their transcripts and summaries are saved).
 */
runCommand(async () => {
  const config = loadConfig();
  const assistant = await serve(config, { onStep: (what) => console.log(what) });
  console.log(`Database: ${describeDatabase(config, assistant.database)}.`);
  console.log(
    assistant.mode === 'livekit'
      ? `Transport: LiveKit at ${config.livekit?.url}; the agent worker registers as "${config.agentName}".`
      : 'Transport: direct WebSocket between the page and this server (set LIVEKIT_URL to use LiveKit); ' +
          (config.voiceProcesses > 0
            ? `conversations run in ${config.voiceProcesses} process${config.voiceProcesses > 1 ? 'es' : ''} (VOICE_PROCESSES).`
            : 'conversations run in this process (VOICE_PROCESSES=0).'),
  );
  console.log('Capabilities:');
  for (const { name, on, detail } of describeCapabilities(config))
    console.log(`  ${name.padEnd(10)} ${on ? 'on ' : 'off'}  ${detail}`);
  if (assistant.problems.length > 0) {
    console.log(
      'Conversations need answers, voice in and voice out: the page says the same. ' +
        'Set what is named above in .env (see .env.example) and start again.',
    );
  }
  if (config.server.accessKey) console.log('APP_ACCESS_KEY is set: the page asks for it.');
  console.log(`Open ${assistant.url}`);

  await new Promise<void>((resolve) => {
    const stop = () => {
      console.log('Stopping: ending live conversations…');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await assistant.close();
});

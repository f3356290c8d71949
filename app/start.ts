import { loadConfig } from '../config/load.ts';
import { runCommand } from './cli.ts';
import { describeDatabase, openConfiguredDatabase } from './open-database.ts';

/**
 * `npm start`. Today it prepares what exists (configuration, database, migrations)
 * and says plainly what does not exist yet, rather than pretending to answer.
 */
runCommand(async () => {
  const config = loadConfig();
  const database = await openConfiguredDatabase(config);
  try {
    console.log(`Configuration is valid. Database ready: ${describeDatabase(config, database)}.`);
    console.log(
      'The voice agent and the web page are not built yet, so there is nothing to talk to. ' +
        '`npm start` will serve the page at http://' +
        `${config.server.host}:${config.server.port} once they exist.`,
    );
  } finally {
    await database.close();
  }
});

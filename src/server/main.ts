/**
 * Entry point: `npm start` runs this from dist/. Reads the config once, starts the server and
 * turns SIGTERM/SIGINT into the graceful shutdown (exit 0). A bad config, a database owned by
 * another process or written by a newer version stops the start-up with exit code 1 and one
 * clear log line.
 */
import { ConfigError, describeDurability, loadConfigFromProcess, loggableConfig } from '../config.js';
import { createLogger } from './log.js';
import { startServer, StartupError } from './boot.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfigFromProcess();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`vibefixer-server: invalid configuration:\n${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.logLevel);
  log.info({ event: 'config', config: loggableConfig(config) }, 'effective configuration');
  log.info({ event: 'durability', ack: config.ack, synchronous: config.sqliteSynchronous }, describeDurability(config));

  let server;
  try {
    server = await startServer(config, log);
  } catch (error) {
    if (error instanceof StartupError) {
      log.fatal({ event: 'startup_refused', code: error.code }, error.message);
      log.flush();
      process.exit(1);
    }
    throw error;
  }
  const stop = (signal: string) => {
    server.close(signal).then(({ flushed }) => {
      log.flush();
      process.exit(flushed ? 0 : 1);
    });
  };
  // `kill -USR2 <pid>` (or `docker kill --signal=USR2 vibefixer`): online backup, see README.
  process.on('SIGUSR2', () => {
    server.backup().catch((error: unknown) => log.error({ event: 'backup_failed', err: error }, 'backup failed'));
  });
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`vibefixer-server: fatal: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

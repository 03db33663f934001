// Runs the gateway from a config file until SIGTERM or SIGINT.
import { startSwitchboard } from "./app.js";
import { ConfigError, loadConfigFile } from "./config/load.js";
import { createLogger } from "./log.js";

export async function run(path: string): Promise<number> {
  // The store, journals and attachments hold messages and sealed secrets: only this user may
  // read what the gateway creates (folders 0700, files 0600), whatever umask it was started with.
  process.umask(0o077);
  let config;
  try {
    config = loadConfigFile(path);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${path}: ${error.message}`);
      return 2;
    }
    throw error;
  }
  const log = createLogger(config.log.level);
  let switchboard;
  try {
    switchboard = await startSwitchboard(config, {
      log,
      // Another instance may take the domains now: stop at once rather than run them twice.
      onLeaseLost: (reason) => {
        log.fatal({ reason }, "lost the hold on this instance's domains; exiting so that it restarts as a standby");
        process.exit(1);
      },
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`${path}: ${error.message}`);
      return 2;
    }
    log.fatal({ err: error }, "switchboard could not start");
    return 1;
  }
  const running = switchboard;
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string): void => {
      log.info({ signal }, "shutting down");
      running.stop().then(resolve, (error: unknown) => {
        log.error({ err: error }, "error while shutting down");
        resolve();
      });
    };
    process.once("SIGTERM", () => shutdown("SIGTERM"));
    process.once("SIGINT", () => shutdown("SIGINT"));
  });
  return 0;
}

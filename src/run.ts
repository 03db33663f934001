// Runs the gateway from a config file until SIGTERM or SIGINT; SIGHUP reads the file again.
import type { Logger } from "pino";
import { startSwitchboard, type Switchboard } from "./app.js";
import { ConfigError, loadConfigFile } from "./config/load.js";
import { applyReload, planReload } from "./config/reload.js";
import type { Config } from "./config/schema.js";
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
  let switchboard: Switchboard | undefined;
  try {
    switchboard = await startSwitchboard(config, {
      log,
      // Another instance may take the domains now: stop at once rather than run them twice.
      onLeaseLost: (reason) => {
        log.fatal({ reason }, "lost the hold on this instance's domains; exiting so that it restarts as a standby");
        // Another instance may take the domains now: nothing more is handled here. What the server
        // had already written to the streams is read into the journal while they close (at most a
        // few seconds), and handed over at the next start.
        const quiescing = switchboard ? switchboard.quiesce() : Promise.resolve();
        void Promise.race([quiescing, new Promise((resolve) => setTimeout(resolve, 3_000))]).finally(() => process.exit(1));
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
  const onHangup = (): void => reload(path, config, running, log);
  process.on("SIGHUP", onHangup);
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
  process.off("SIGHUP", onHangup);
  return 0;
}

/** Applies what can change of the file as it is now to the running config; see config/reload.ts. */
function reload(path: string, running: Config, switchboard: Switchboard, log: Logger): void {
  let next: Config;
  try {
    next = loadConfigFile(path);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    switchboard.metrics.configReloads.inc({ result: "refused" });
    log.error({ path, problems: error.problems }, `config reload refused, the running config stays: ${error.problems.join("; ")}`);
    return;
  }
  const plan = planReload(running, next);
  if (plan.applied.length === 0 && plan.needsRestart.length === 0) {
    switchboard.metrics.configReloads.inc({ result: "unchanged" });
    log.info({ path }, "config reloaded: nothing changed");
    return;
  }
  applyReload(running, next, log, plan);
  switchboard.metrics.configReloads.inc({ result: plan.applied.length > 0 ? "applied" : "unchanged" });
  if (plan.applied.length > 0) {
    log.info(
      { path, applied: plan.applied },
      `config reloaded: applied ${plan.applied.map(({ key, to }) => `${key}=${JSON.stringify(to) ?? "(unset)"}`).join(", ")}`,
    );
  }
  if (plan.needsRestart.length > 0) {
    log.warn(
      { path, needsRestart: plan.needsRestart },
      `config reloaded: ${plan.needsRestart.join(", ")} changed but needs a restart; the running values stay until then`,
    );
  }
}

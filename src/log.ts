import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

/** JSON lines on stdout; secrets and message bodies never go in at info level. */
export function createLogger(level: LevelWithSilent = "info", destination?: string): Logger {
  const options = {
    level,
    base: { app: "switchboard" },
    redact: { paths: ["*.password", "*.secret", "*.token", "*.authToken", "fields.*"], censor: "[hidden]" },
  };
  return destination ? pino(options, pino.destination({ dest: destination, sync: true })) : pino(options);
}

import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

const thresholds = new WeakMap<Logger, { value: number; name: string }>();

/** JSON lines on stdout (or a file); secrets and message bodies never go in at info level.
 *  The level can change at run time (setLogLevel) for this logger and every child of it. */
export function createLogger(level: LevelWithSilent = "info", destination?: string): Logger {
  const threshold = { value: levelValue(level), name: level };
  const options = {
    level: "trace",
    base: { app: "switchboard" },
    redact: { paths: ["*.password", "*.secret", "*.token", "*.authToken", "fields.*"], censor: "[hidden]" },
    hooks: {
      // Children copy their parent's level when made; filtering here lets one switch reach them all.
      logMethod(this: Logger, args: Parameters<Logger["info"]>, method: (...args: unknown[]) => void, levelNumber: number) {
        if (levelNumber >= threshold.value) method.apply(this, args);
      },
    },
  };
  const logger = destination ? pino(options, pino.destination({ dest: destination, sync: true })) : pino(options);
  thresholds.set(logger, threshold);
  return logger;
}

export function setLogLevel(logger: Logger, level: LevelWithSilent): void {
  const threshold = thresholds.get(logger);
  if (!threshold) throw new Error("setLogLevel needs the root logger");
  threshold.value = levelValue(level);
  threshold.name = level;
}

export function getLogLevel(logger: Logger): string {
  return thresholds.get(logger)?.name ?? logger.level;
}

function levelValue(level: LevelWithSilent): number {
  return level === "silent" ? Infinity : (pino.levels.values[level] ?? 30);
}

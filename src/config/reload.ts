// SIGHUP: the config file is read again. What the running gateway reads at each use (limits, the
// log level, who may register, who is an admin, a transport's daily cap) changes in place; what it
// was built from (domains, secrets, the store, ports, transport settings) keeps its running value
// and is named as needing a restart. A file that no longer validates changes nothing.
import type { Logger } from "pino";
import { setLogLevel } from "../log.js";
import type { Config } from "./schema.js";

export interface ReloadPlan {
  /** Keys that change now, with their old and new values (none of them is a secret). */
  applied: Array<{ key: string; from: unknown; to: unknown }>;
  /** Keys whose new value waits for a restart (values not shown: they may be secrets). */
  needsRestart: string[];
}

type Limit = keyof Config["limits"];
/** Limits read at each use; the others (queue size, retry period) size things built at start. */
const LIVE_LIMITS: readonly Limit[] = ["maxBodyChars", "maxSubjectChars", "messagesPerMinute", "registrationAttemptsPerUser", "registrationsPerMinute"];

/** Every leaf of the config by its dotted key; lists are one value. */
function leaves(value: unknown, prefix = "", into = new Map<string, string>()): Map<string, string> {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, item] of Object.entries(value)) leaves(item, prefix ? `${prefix}.${key}` : key, into);
  } else if (value !== undefined) {
    into.set(prefix, JSON.stringify(value));
  }
  return into;
}

function isLive(key: string, running: Config, next: Config): boolean {
  if (key === "log.level" || key === "access.register" || key === "access.admins") return true;
  const [section, name, field, ...rest] = key.split(".");
  if (section === "limits" && LIVE_LIMITS.includes(name as Limit)) return true;
  // A daily cap the transport was started with is read at each message; one it was started without
  // (or a removed one) changes what is built at start.
  if (section === "transports" && field === "messagesPerDay" && rest.length === 0) {
    return running.transports[name!]?.messagesPerDay !== undefined && next.transports[name!]?.messagesPerDay !== undefined;
  }
  return false;
}

export function planReload(running: Config, next: Config): ReloadPlan {
  const before = leaves(running);
  const after = leaves(next);
  const plan: ReloadPlan = { applied: [], needsRestart: [] };
  for (const key of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    if (before.get(key) === after.get(key)) continue;
    if (isLive(key, running, next)) {
      const parse = (text: string | undefined): unknown => (text === undefined ? undefined : JSON.parse(text));
      plan.applied.push({ key, from: parse(before.get(key)), to: parse(after.get(key)) });
    } else {
      plan.needsRestart.push(key);
    }
  }
  return plan;
}

/** Changes `running` in place (the gateway's services hold it) to take what can change from `next`. */
export function applyReload(running: Config, next: Config, rootLog: Logger, plan: ReloadPlan = planReload(running, next)): ReloadPlan {
  for (const { key } of plan.applied) {
    const [section, name] = key.split(".");
    if (key === "log.level") {
      running.log.level = next.log.level;
      setLogLevel(rootLog, next.log.level);
    } else if (section === "limits") {
      (running.limits as Record<string, number>)[name!] = next.limits[name as Limit];
    } else if (key === "access.register") {
      running.access.register = next.access.register;
    } else if (key === "access.admins") {
      running.access.admins = next.access.admins;
    } else if (section === "transports") {
      running.transports[name!]!.messagesPerDay = next.transports[name!]!.messagesPerDay;
    }
  }
  return plan;
}

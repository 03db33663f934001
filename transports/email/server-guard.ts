// Where the gateway connects for a mail account: a personal account's servers are the user's
// choice, so each connection goes to an address resolved and checked just before; the hosted
// servers are the operator's own and are used as configured.
import { isIP } from "node:net";
import { checkPublicHost } from "../../src/transport/net-guard.js";
import type { ServerLogin } from "./account.js";
import type { EmailConfig } from "./config.js";

export interface ServerTarget {
  /** What to connect to: the checked address, or the configured host when nothing is checked. */
  host: string;
  /** The name the TLS certificate must carry, when `host` is an address in its place. */
  servername?: string;
}

/** True when the user's mail servers may sit on private networks (trials, tests, or the operator's own servers). */
export const privateServersAllowed = (config: EmailConfig): boolean => config.allowPrivateServers || config.mode === "hosted";

/** Resolves and checks a mail server; throws a GatewayError with a sentence when it may not be used. */
export async function serverTarget(login: ServerLogin, config: EmailConfig, role: "IMAP server" | "SMTP server"): Promise<ServerTarget> {
  if (privateServersAllowed(config)) return { host: login.host };
  const checked = await checkPublicHost(login.host, { role });
  return isIP(login.host) ? { host: checked.address } : { host: checked.address, servername: login.host };
}

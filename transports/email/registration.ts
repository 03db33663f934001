// Checks a personal-account registration before it is accepted: a real address, sane servers,
// and a login that both the IMAP and the SMTP server accept.
import { type GatewayError, gatewayError } from "../../src/transport/index.js";
import type { Fields } from "../../src/transport/contract.js";
import { FIELD } from "./account.js";
import { parseAddress } from "./address.js";
import type { EmailConfig } from "./config.js";
import { checkHostText } from "../../src/transport/net-guard.js";

/** The fields as they will be stored: canonical address, ports as numbers, user name filled in. */
export function normalizePersonalFields(fields: Fields, config: EmailConfig): Fields {
  let address: string;
  try {
    address = parseAddress(fields[FIELD.address] ?? "");
  } catch (error) {
    throw gatewayError("not-acceptable", (error as GatewayError).message);
  }
  const normalized: Fields = { ...fields, [FIELD.address]: address };
  for (const [host, port, security, label] of [
    [FIELD.imapHost, FIELD.imapPort, FIELD.imapSecurity, "IMAP"],
    [FIELD.smtpHost, FIELD.smtpPort, FIELD.smtpSecurity, "SMTP"],
  ] as const) {
    const name = (fields[host] ?? "")
      .trim()
      .toLowerCase()
      .replace(/^\[(.*)\]$/, "$1");
    // Private as written (loopback in any notation, localhost…) is refused before any look-up;
    // names are resolved and checked each time the gateway connects.
    if (!config.allowPrivateServers) checkHostText(name, { role: `${label} server` });
    if (!/^[a-z0-9.:-]+$/.test(name)) throw gatewayError("not-acceptable", `The ${label} server "${fields[host] ?? ""}" is not a host name.`);
    const number = Number(fields[port]);
    if (!Number.isInteger(number) || number < 1 || number > 65535)
      throw gatewayError("not-acceptable", `The ${label} port must be a number from 1 to 65535, not "${fields[port] ?? ""}".`);
    normalized[host] = name;
    normalized[port] = String(number);
    normalized[security] = fields[security] || (label === "IMAP" ? "tls" : "starttls");
  }
  if (!normalized[FIELD.username]) normalized[FIELD.username] = address;
  return normalized;
}

/** True when a new registration points at another mailbox than the previous one. */
export function sameMailbox(a: Fields | undefined, b: Fields): boolean {
  return !!a && [FIELD.address, FIELD.imapHost, FIELD.imapPort, FIELD.username].every((name) => a[name] === b[name]);
}

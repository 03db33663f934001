// A user's mail account as the transport uses it: where to read mail and where to send it,
// from their registration (personal mode) or from the operator's config (hosted mode).
import type { Fields } from "../../src/transport/contract.js";
import type { EmailAddress } from "./address.js";
import type { EmailConfig, Security } from "./config.js";

export interface ServerLogin {
  host: string;
  port: number;
  security: Security;
  user?: string;
  password?: string;
}

export interface MailAccount {
  address: EmailAddress;
  /** Display name for From when a message carries no nickname. */
  name?: string;
  /** Where mail is read; none for a hosted domain whose mail arrives by LMTP. */
  imap?: ServerLogin;
  smtp: ServerLogin;
}

/** Registration field names; the form and the stored fields use the same ones. */
export const FIELD = {
  address: "address",
  name: "name",
  imapHost: "imap_host",
  imapPort: "imap_port",
  imapSecurity: "imap_security",
  smtpHost: "smtp_host",
  smtpPort: "smtp_port",
  smtpSecurity: "smtp_security",
  username: "username",
  password: "password",
} as const;

/** The account behind stored registration fields. */
export function accountOf(fields: Fields, config: EmailConfig): MailAccount {
  const address = (fields[FIELD.address] ?? "") as EmailAddress;
  const common = { address, ...(fields[FIELD.name] && { name: fields[FIELD.name] }) };
  if (config.mode === "hosted" && config.hosted) {
    const { imap, smtp } = config.hosted;
    return {
      ...common,
      ...(imap && { imap: { host: imap.host, port: imap.port, security: imap.security, user: imap.user, password: imap.password } }),
      smtp: {
        host: smtp.host,
        port: smtp.port,
        security: smtp.security,
        ...(smtp.user && { user: smtp.user }),
        ...(smtp.password && { password: smtp.password }),
      },
    };
  }
  const user = fields[FIELD.username] || address;
  const password = fields[FIELD.password] ?? "";
  return {
    ...common,
    imap: {
      host: fields[FIELD.imapHost] ?? "",
      port: Number(fields[FIELD.imapPort]),
      security: (fields[FIELD.imapSecurity] ?? "tls") as Security,
      user,
      password,
    },
    smtp: {
      host: fields[FIELD.smtpHost] ?? "",
      port: Number(fields[FIELD.smtpPort]),
      security: (fields[FIELD.smtpSecurity] ?? "starttls") as Security,
      user,
      password,
    },
  };
}

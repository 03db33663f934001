// Opens imapflow connections from account settings, and checks a login at registration.
import { ImapFlow } from "imapflow";
import type { Logger } from "pino";
import { GatewayError } from "../../src/transport/index.js";
import type { ServerLogin } from "./account.js";
import type { EmailConfig } from "./config.js";
import { serverTarget } from "./server-guard.js";

/** A client for the account's IMAP server, aimed at the address checked just now (throws when it may not be used). */
export async function imapClient(login: ServerLogin, config: EmailConfig, log: Logger): Promise<ImapFlow> {
  const target = await serverTarget(login, config, "IMAP server");
  return new ImapFlow({
    host: target.host,
    ...(target.servername && { servername: target.servername }),
    port: login.port,
    secure: login.security === "tls",
    doSTARTTLS: login.security === "starttls" ? true : login.security === "none" ? false : undefined,
    auth: { user: login.user ?? "", pass: login.password ?? "" },
    tls: { rejectUnauthorized: config.verifyCertificates },
    // imapflow logs every command at debug; ours stays readable and never holds mail or passwords.
    logger: imapLogger(log),
    autoIdleDelay: config.imap.idleDelayMs,
    maxIdleTime: config.imap.idleRestartMs,
    connectionTimeout: config.imap.timeoutMs,
    greetingTimeout: config.imap.timeoutMs,
    disableCompression: true,
  });
}

function imapLogger(log: Logger) {
  const quiet = (): void => undefined;
  return {
    debug: quiet,
    trace: quiet,
    info: quiet,
    warn: (entry: { msg?: string; err?: unknown }) => log.debug({ imap: entry.msg, err: entry.err }, "imap warning"),
    error: (entry: { msg?: string; err?: unknown }) => log.debug({ imap: entry.msg, err: entry.err }, "imap error"),
  };
}

export interface MailboxStart {
  uidValidity: string;
  uidNext: number;
}

/** Logs in and opens INBOX; refuses with a sentence that names the server when it cannot. */
export async function checkImapLogin(login: ServerLogin, config: EmailConfig, log: Logger): Promise<MailboxStart> {
  const client = await imapClient(login, config, log);
  client.on("error", () => undefined);
  try {
    await client.connect();
    const mailbox = await client.mailboxOpen("INBOX", { readOnly: true });
    return { uidValidity: String(mailbox.uidValidity), uidNext: mailbox.uidNext };
  } catch (error) {
    throw imapRefusal(login, error);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

export function imapRefusal(login: ServerLogin, error: unknown): GatewayError {
  if (error instanceof GatewayError) return error; // already a sentence (a server the gateway may not use)
  const where = `the IMAP server ${login.host}:${login.port}`;
  const failure = error as { authenticationFailed?: boolean; code?: string; responseText?: string; message?: string };
  if (failure.authenticationFailed) {
    return new GatewayError(
      "not-authorized",
      `${capitalize(where)} refused the login for ${login.user ?? ""}: wrong user name or password${failure.responseText ? ` (${failure.responseText})` : ""}.`,
      { code: "imap-auth", cause: error },
    );
  }
  return new GatewayError(
    "remote-server-not-found",
    `Could not open the mailbox on ${where}: ${failure.responseText || failure.message || failure.code || "no answer"}. Check the server name, port and security setting.`,
    {
      code: "imap-unreachable",
      cause: error,
    },
  );
}

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

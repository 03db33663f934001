// The e-mail transport: registrations, one IMAP session per watched mailbox (or the hosted
// domain's LMTP listener), and mail out.
import type { Logger } from "pino";
import { gatewayError, type BareJid, type Table } from "../../src/transport/index.js";
import type { Fields, OutboundMessage, SendResult, Transport, TransportContext } from "../../src/transport/contract.js";
import { accountOf, FIELD, type MailAccount } from "./account.js";
import { emailAddressCodec } from "./address.js";
import { fetchAttachments } from "./attachments-out.js";
import { composeMail } from "./compose.js";
import type { EmailConfig } from "./config.js";
import { registrationForm, secretBinding } from "./form.js";
import { createHostedDirectory, type HostedDirectory } from "./hosted.js";
import { checkImapLogin } from "./imap-client.js";
import { MailboxSession, type MailboxState } from "./imap.js";
import { createMailHandler, type InboundDeps } from "./inbound.js";
import { LmtpListener } from "./lmtp.js";
import { recipientOwner, takeLmtpMail } from "./lmtp-mail.js";
import { normalizePersonalFields, sameMailbox } from "./registration.js";
import { SENDER_POLICY } from "./spam.js";
import { createMailer } from "./smtp.js";
import { createThreads, type ThreadLink, type Threads } from "./threads.js";

const HOSTED_KEY = "hosted";

interface Running {
  context: TransportContext;
  state: Table<MailboxState>;
  threads: Threads;
  hosted?: HostedDirectory;
  inbound: InboundDeps;
  messageIdDomain: string;
}

export function createEmailTransport(config: EmailConfig, log: Logger): Transport {
  const mailer = createMailer(config, log);
  const sessions = new Map<string, MailboxSession>();
  /** Sessions logged in right now, for the sessions gauge. */
  const connected = new Set<string>();
  let running: Running | null = null;
  /** The hosted domain's LMTP listener, when its mail arrives that way. */
  let lmtp: LmtpListener | null = null;

  const need = (): Running => {
    if (!running) throw gatewayError("service-unavailable", "The e-mail gateway is starting or stopping; try again in a moment.");
    return running;
  };

  const watch = (key: string, account: MailAccount, owner?: BareJid): void => {
    const { state, inbound, context } = need();
    const mails = createMailHandler(inbound, key, owner, owner && account.address);
    const session = new MailboxSession({
      key,
      login: account.imap!,
      config,
      log: log.child({ mailbox: key }),
      state,
      handle: mails.handle,
      readAhead: mails.readAhead,
      onState(news) {
        if (news.ok !== connected.has(key)) context.metrics.sessions.inc({ transport: "email", state: "connected" }, news.ok ? 1 : -1);
        if (news.ok) connected.add(key);
        else connected.delete(key);
        // A mailbox that stops working shows as the gateway going away for those it serves, with why.
        if (owner) context.setAccountState(owner, news);
        else void everyone(context, news.ok ? news : { ok: false, reason: hostedTrouble() });
      },
    });
    sessions.set(key, session);
    session.start();
  };

  /** What users see when the catch-all mailbox fails: not the server's reply, which names the
   *  operator's login (the session log has it, for the operator). */
  const hostedTrouble = (): string =>
    `The gateway cannot read its mailbox for ${config.hosted?.domain ?? "its mail domain"} right now, so new mail waits there; its operator has to fix it.`;

  /** The hosted catch-all serves every user: each sees its trouble. */
  const everyone = async (context: TransportContext, news: Parameters<TransportContext["setAccountState"]>[1]): Promise<void> => {
    try {
      for await (const [user] of context.registrations()) context.setAccountState(user, news);
    } catch (error) {
      log.warn({ err: error }, "could not tell users about the hosted mailbox");
    }
  };

  const unwatch = async (key: string): Promise<void> => {
    const session = sessions.get(key);
    sessions.delete(key);
    await session?.stop();
    if (connected.delete(key)) running?.context.metrics.sessions.dec({ transport: "email", state: "connected" });
  };

  return {
    name: "email",
    identityType: "smtp",
    displayName: "E-mail gateway",
    address: emailAddressCodec,
    capabilities: {
      // SMTP says a server took the mail, not that it arrived; bounces come back as errors.
      receipts: false,
      attachments: { maxBytes: config.maxAttachmentBytes },
      subject: true,
      threads: true,
      // A correction follows as a mail of its own in the same thread, so the recipient does not act
      // on the wrong text; a mail per emoji or per deletion would only be noise (docs/message-features.md).
      corrections: "new-message",
      reactions: "none",
      retractions: "none",
      // A mail to several people is one mail; a thread with several people is a group chat (docs/groups.md).
      groups: true,
    },
    preferences: [SENDER_POLICY],
    async filterIncoming({ preferences, wroteTo }) {
      if (preferences[SENDER_POLICY.var] !== "known") return undefined;
      return (await wroteTo()) ? undefined : "the user forwards only mail from addresses they have written to";
    },
    secretFields: [FIELD.password],
    secretBinding,

    registrationForm: (user, current) => registrationForm(config, user, current),

    async start(context) {
      const messageIdDomain = config.messageIdDomain ?? context.domain;
      const threads = createThreads(context.table("threads"));
      const hosted =
        config.mode === "hosted" && config.hosted
          ? createHostedDirectory(context.table<string>("hosted-addresses"), {
              domain: config.hosted.domain,
              logins: [...(config.hosted.imap ? [config.hosted.imap.user] : []), ...(config.hosted.smtp.user ? [config.hosted.smtp.user] : [])],
            })
          : undefined;
      running = {
        context,
        state: context.table<MailboxState>("mailboxes"),
        threads,
        ...(hosted && { hosted }),
        inbound: { context, config, threads, messageIdDomain, log, ...(hosted && { hosted }) },
        messageIdDomain,
      };
      if (config.mode === "hosted" && config.hosted?.lmtp && hosted) {
        const deps = { ...running.inbound, hosted, domain: config.hosted.domain };
        const listener = new LmtpListener({
          config: config.hosted.lmtp,
          maxMessageBytes: config.maxMessageBytes,
          name: config.hosted.domain,
          log: log.child({ lmtp: true }),
          owner: (address) => recipientOwner(deps, address),
          take: (envelope, source) => takeLmtpMail(deps, envelope, source),
        });
        await listener.start();
        lmtp = listener;
      } else if (config.mode === "hosted") watch(HOSTED_KEY, accountOf({}, config));
      else for await (const [user, fields] of context.registrations()) watch(user, accountOf(fields, config), user);
      log.info({ mode: config.mode, mailboxes: sessions.size, ...(lmtp && { lmtp: lmtp.address }) }, "e-mail transport started");
    },

    async stop() {
      await lmtp?.stop();
      lmtp = null;
      await Promise.all([...sessions.keys()].map(unwatch));
      mailer.close();
      running = null;
    },

    async register(user, fields, previous) {
      const { state, hosted } = need();
      if (config.mode === "hosted") {
        const address = await hosted!.claim(user, fields[FIELD.address] || user.split("@")[0]!, previous?.[FIELD.address]);
        return { [FIELD.address]: address, ...(fields[FIELD.name] && { [FIELD.name]: fields[FIELD.name] }) };
      }
      const normalized = normalizePersonalFields(fields, config);
      const account = accountOf(normalized, config);
      const start = await checkImapLogin(account.imap!, config, log);
      await mailer.verify(account.smtp);
      await unwatch(user);
      if (previous) mailer.forget(accountOf(previous, config).smtp);
      // Only mail that arrives from now on is forwarded: the user's old inbox is not replayed.
      if (!sameMailbox(previous, normalized) || !(await state.has(user)))
        await state.set(user, { uidValidity: start.uidValidity, lastUid: Math.max(0, start.uidNext - 1) });
      watch(user, account, user);
      log.info({ user, imap: account.imap!.host, smtp: account.smtp.host }, "mailbox checked and watched");
      return normalized;
    },

    async unregister(user, fields) {
      const address = fields[FIELD.address];
      const { state, hosted, threads } = need();
      if (config.mode === "hosted") {
        if (address) await hosted!.release(user, address);
      } else {
        await unwatch(user);
        await state.delete(user);
        mailer.forget(accountOf(fields, config).smtp);
      }
      await threads.forget(user);
    },

    async send(message: OutboundMessage, fields: Fields): Promise<SendResult> {
      const { threads, messageIdDomain } = need();
      const account = accountOf(fields, config);
      const reply = message.group
        ? await threads.groupReplyHeaders(message.user, message.group.key)
        : await threads.replyHeaders(message.user, message.peer, {
            ...(message.inReplyTo && { inReplyTo: message.inReplyTo }),
            ...(message.thread && { thread: message.thread }),
          });
      const files = await fetchAttachments(message.attachments, {
        maxBytes: config.maxAttachmentBytes,
        timeoutMs: config.smtp.timeoutMs,
        allowPrivate: config.allowPrivateServers,
        log,
      });
      const name = message.nick || account.name;
      const mail = composeMail({
        message,
        from: { address: account.address, ...(name && { name }) },
        reply,
        attachments: files.attached,
        linked: files.linked,
        defaultSubject: config.defaultSubject,
        messageIdDomain,
      });
      const result = await mailer.send(account.smtp, mail);
      if (result.kind === "accepted") {
        const link: ThreadLink = {
          messageId: String(mail.messageId),
          references: reply.references,
          ...(typeof mail.subject === "string" && { subject: mail.subject }),
        };
        // The mail is gone either way: its thread records join the store's next commit without
        // holding up the outbox's bookkeeping (on SQLite they are written at the call). Lost in a
        // crash or a store failure, a later reply only misses its In-Reply-To.
        (message.group ? threads.groupMail(message.user, message.group.key, link) : threads.sent(message.user, message.peer, link, message.thread)).catch(
          (error: unknown) => log.warn({ user: message.user, err: error }, "could not remember the thread of a mail sent"),
        );
      }
      return result;
    },
  };
}

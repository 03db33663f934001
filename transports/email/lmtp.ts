// The hosted domain's LMTP listener (RFC 2033): the operator's mail server (Postfix, Exim) hands
// the domain's mail straight to the gateway, one reply per recipient, instead of a catch-all
// mailbox the gateway reads. A recipient nobody holds is refused at RCPT; after DATA each RCPT
// that got 250 gets its own answer (section 4.2), from takeLmtpMail.
import { chmodSync, lstatSync, unlinkSync } from "node:fs";
import type { AddressInfo } from "node:net";
import ipaddr from "ipaddr.js";
import type { Logger } from "pino";
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import type { BareJid } from "../../src/transport/index.js";
import type { LmtpConfig } from "./config.js";
import { LMTP_REPLY, type LmtpEnvelope, type LmtpReply } from "./lmtp-mail.js";

export interface LmtpListenerOptions {
  config: LmtpConfig;
  /** Mail larger than this is refused (552), and never held in memory beyond it. */
  maxMessageBytes: number;
  /** The name in the greeting and the LHLO answer. */
  name: string;
  log: Logger;
  /** Who holds a recipient's address: asked at RCPT, so that an unknown one is refused at once. */
  owner(address: string): Promise<BareJid | undefined>;
  /** The reply for each recipient of a mail; must not throw. */
  take(envelope: LmtpEnvelope, source: Buffer): Promise<LmtpReply[]>;
}

/** At most this many clients at once (Postfix opens up to 20 per destination by default). */
const MAX_CLIENTS = 100;
/** How long stop() lets mails being stored finish before it closes their connections. */
const STOP_GRACE_MS = 5_000;

/** Owns the listening socket; a class because it has a lifecycle (start, stop). */
export class LmtpListener {
  private server: SMTPServer | null = null;
  /** Mails whose replies are being worked out, so that stop() can let them finish. */
  private readonly taking = new Set<Promise<unknown>>();
  private readonly allowed: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
  /**
   * Each transaction's RCPTs answered 250, in order and with repeats. smtp-server keeps one
   * envelope entry per address (ignoring case), so a client that names an address twice would get
   * one reply fewer after DATA than it waits for. smtp-server gives each transaction a new envelope.
   */
  private readonly accepted = new WeakMap<SMTPServerSession["envelope"], string[]>();

  constructor(private readonly options: LmtpListenerOptions) {
    this.allowed = options.config.allowFrom.map((entry) =>
      entry.includes("/") ? ipaddr.parseCIDR(entry) : ipaddr.parseCIDR(`${entry}/${entry.includes(":") ? 128 : 32}`),
    );
  }

  /** Where it listens: the socket path, or host:port (the port the system chose when it was 0). */
  get address(): string {
    const { socket, host } = this.options.config;
    if (socket) return socket;
    const bound = this.server?.server.address() as AddressInfo | null | undefined;
    return `${host.includes(":") ? `[${host}]` : host}:${bound?.port ?? this.options.config.port}`;
  }

  get port(): number {
    return (this.server?.server.address() as AddressInfo | null | undefined)?.port ?? 0;
  }

  async start(): Promise<void> {
    const { config, log } = this.options;
    const server = new SMTPServer({
      lmtp: true,
      name: this.options.name,
      banner: "Switchboard LMTP",
      secure: false,
      // No login and no TLS: the listener is for the operator's mail server, on loopback, a unix
      // socket or the networks in allowFrom.
      disabledCommands: ["AUTH", "STARTTLS"],
      authOptional: true,
      // Replies carry their own enhanced status codes (452 4.3.1, not smtp-server's 452 4.2.2).
      hideENHANCEDSTATUSCODES: true,
      // The mail server sends delivery notices itself for a destination without DSN.
      hideDSN: true,
      disableReverseLookup: true,
      // Advertised in the LHLO answer (RFC 1870), so the mail server bounces larger mail before sending it.
      size: this.options.maxMessageBytes,
      maxRecipients: config.maxRecipients,
      maxClients: MAX_CLIENTS,
      socketTimeout: config.timeoutMs,
      closeTimeout: STOP_GRACE_MS,
      logger: false,
      onConnect: (session, callback) => this.onConnect(session, callback),
      onRcptTo: (address, session, callback) => this.onRcptTo(address, session, callback),
      onData: (stream, session, callback) => this.onData(stream, session, callback),
    });
    // A client's socket error, a parser failure: logged, never thrown at the gateway.
    server.on("error", (error: Error) => log.debug({ err: error }, "LMTP connection error"));
    if (config.socket) removeStaleSocket(config.socket);
    await new Promise<void>((resolve, reject) => {
      const failed = (error: Error): void =>
        reject(new Error(`The e-mail transport cannot listen for LMTP on ${this.address}: ${error.message}`, { cause: error }));
      server.server.once("error", failed);
      const listening = (): void => {
        server.server.off("error", failed);
        resolve();
      };
      if (config.socket) server.listen(config.socket, listening);
      else server.listen(config.port, config.host, listening);
    });
    if (config.socket) chmodSync(config.socket, Number.parseInt(config.socketMode, 8));
    this.server = server;
    log.info({ lmtp: this.address }, "listening for the hosted domain's mail over LMTP");
  }

  /** Stops taking connections, lets mails being stored finish (bounded), then closes the rest: a
   *  mail cut off before its reply is sent again by the mail server, and recognised as delivered. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.race([Promise.allSettled([...this.taking]), sleep(STOP_GRACE_MS)]);
    for (const connection of server.connections as Set<{ send(code: number, text: string): void; close(): void }>) {
      connection.send(421, "4.3.2 The gateway is shutting down; try again later");
      connection.close();
    }
    await Promise.race([closed, sleep(1_000)]);
    if (this.options.config.socket) removeStaleSocket(this.options.config.socket);
  }

  private onConnect(session: SMTPServerSession, callback: (error?: Error | null) => void): void {
    callback(this.admits(session.remoteAddress) ? null : refusal({ code: 421, text: "4.7.0 This client may not hand mail to the gateway" }));
  }

  /** Whether a client may connect: every one on a unix socket (the file's permissions say who
   *  may), over TCP those in allowFrom. */
  private admits(address: string): boolean {
    if (!address) return true;
    try {
      const peer = ipaddr.process(address);
      if (this.allowed.some(([range, bits]) => range.kind() === peer.kind() && peer.match(range, bits))) return true;
    } catch {
      // not an address ipaddr.js can read: turned away below
    }
    this.options.log.warn({ client: address }, "turned away an LMTP client that allowFrom does not list");
    return false;
  }

  /** Refuses an address nobody holds; notes each one accepted, for its reply after DATA. */
  private onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: (error?: Error | null) => void): void {
    this.options.owner(address.address).then(
      (user) => {
        if (!user) return callback(refusal(LMTP_REPLY.unknownRecipient));
        // smtp-server answers 250 as soon as this callback says yes: RCPTs come one at a time,
        // so the envelope is still this transaction's.
        const accepted = this.accepted.get(session.envelope) ?? [];
        accepted.push(address.address);
        this.accepted.set(session.envelope, accepted);
        callback(null);
      },
      (error: unknown) => {
        this.options.log.warn({ recipient: address.address, err: error }, "could not look up an LMTP recipient; the mail server will retry");
        callback(refusal(LMTP_REPLY.failed));
      },
    );
  }

  /**
   * Answers with one reply per accepted RCPT, always as a list: smtp-server sends a list as given,
   * but repeats a single error only once per distinct address. An address named twice is taken
   * once, and its second RCPT gets the first one's reply.
   */
  private onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error: null, replies: Array<string | Error>) => void): void {
    const { maxMessageBytes, log } = this.options;
    const accepted = this.accepted.get(session.envelope) ?? session.envelope.rcptTo.map((recipient) => recipient.address);
    const { recipients, positions } = distinctRecipients(accepted);
    const chunks: Buffer[] = [];
    let bytes = 0;
    let answered = false;
    const answer = (replies: LmtpReply[]): void => {
      if (answered) return;
      answered = true;
      callback(
        null,
        positions.map((position) => asResponse(replies[position] ?? LMTP_REPLY.failed)),
      );
    };
    const toAll = (reply: LmtpReply): LmtpReply[] => recipients.map(() => reply);
    // Past the limit the rest is read and dropped, then every recipient gets 552.
    stream.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= maxMessageBytes) chunks.push(chunk);
    });
    stream.on("error", (error: Error) => answer(toAll({ code: 451, text: `4.3.0 Reading the mail failed: ${error.message}` })));
    stream.on("end", () => {
      if (stream.sizeExceeded || bytes > maxMessageBytes) {
        log.info({ bytes, limit: maxMessageBytes }, "refused a mail over LMTP larger than maxMessageBytes");
        return answer(toAll(LMTP_REPLY.tooBig(maxMessageBytes)));
      }
      const envelope: LmtpEnvelope = { sender: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", recipients };
      const taking = this.options
        .take(envelope, Buffer.concat(chunks, Math.min(bytes, maxMessageBytes)))
        .catch((error: unknown) => {
          log.error({ err: error }, "handling a mail over LMTP failed; the mail server will retry");
          return toAll(LMTP_REPLY.failed);
        })
        .then(answer);
      this.taking.add(taking);
      void taking.finally(() => this.taking.delete(taking));
    });
  }
}

/**
 * The distinct addresses among the accepted RCPTs, compared as smtp-server compares them (ignoring
 * case) and spelled as first given, and for each RCPT the position of its address among them.
 */
function distinctRecipients(accepted: string[]): { recipients: string[]; positions: number[] } {
  const seen = new Map<string, number>();
  const recipients: string[] = [];
  const positions = accepted.map((address) => {
    const key = address.toLowerCase();
    let position = seen.get(key);
    if (position === undefined) {
      position = recipients.push(address) - 1;
      seen.set(key, position);
    }
    return position;
  });
  return { recipients, positions };
}

/** An smtp-server per-recipient response: a string for 250, an Error with responseCode otherwise. */
function asResponse(reply: LmtpReply): string | Error {
  return reply.code < 300 ? reply.text : refusal(reply);
}

function refusal(reply: LmtpReply): Error {
  return Object.assign(new Error(reply.text), { responseCode: reply.code });
}

/** A socket file left by a run that did not stop cleanly keeps listen() from binding; anything
 *  else at that path is the operator's and is left alone (listen then fails and says so). */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // nothing there
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

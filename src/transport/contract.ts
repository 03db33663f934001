// The contract between the core and a transport. A transport knows its protocol and nothing about
// stanzas; the core knows XMPP and nothing about SMTP or Twilio. They meet here.
import type { z } from "zod";
import type { Logger } from "pino";
import type { BareJid } from "../xmpp/jid.js";
import type { Table } from "../store/store.js";
import type { HttpRouter } from "../http/router.js";
import type { Metrics } from "../metrics.js";

/** Registration values, keyed by form field name. Secrets arrive decrypted and leave encrypted. */
export type Fields = Record<string, string>;

export interface FormField {
  var: string;
  label: string;
  type: "text-single" | "text-private" | "list-single" | "boolean" | "fixed";
  required?: boolean;
  desc?: string;
  options?: Array<{ label: string; value: string }>;
  /** Current or default value shown in the form. */
  value?: string;
}

export interface RegistrationForm {
  title: string;
  instructions: string;
  fields: FormField[];
}

export interface Attachment {
  url: string;
  mediaType?: string;
  name?: string;
  size?: number;
}

/** A message from the legacy network to a gateway user. */
export interface InboundMessage {
  user: BareJid;
  /** Legacy address of the sender, in the transport's canonical form. */
  peer: string;
  body: string;
  subject?: string;
  thread?: string;
  /** Source id of the message this one answers, when the source says so. */
  inReplyTo?: string;
  attachments?: Attachment[];
  sentAt?: Date;
  /** The sender's display name (XEP-0172 nick). */
  nick?: string;
  /** Unique per transport: IMAP "UIDVALIDITY:UID" of a mailbox, Twilio MessageSid, a Message-ID... */
  sourceId: string;
  /** Set when the message belongs to a conversation with several people (a mail thread with more
   *  than one party besides the user): the core shows it in a group chat (docs/groups.md). */
  group?: InboundGroup;
}

/** Who a group message was addressed to: "from" its sender, "to" and "cc" the other recipients. */
export interface GroupParticipant {
  /** Legacy address, in the transport's canonical form. */
  address: string;
  name?: string;
  field: "from" | "to" | "cc";
}

export interface InboundGroup {
  /** The conversation, stable for all its messages (a mail thread): one group chat per key and user. */
  key: string;
  /** Everyone the message names except the user, the sender included. */
  participants: GroupParticipant[];
}

/** A user's message to a group: where it goes, as a reply to all. */
export interface OutboundGroup {
  /** The key the transport gave the conversation (InboundGroup.key). */
  key: string;
  /** Recipients, the user excluded; `peer` is the first of them. */
  to: string[];
  cc: string[];
  /** The conversation's subject, for a network that carries one ("Re: …"). */
  subject?: string;
}

/** A message from a gateway user to a legacy address. */
export interface OutboundMessage {
  id: string;
  user: BareJid;
  peer: string;
  body: string;
  subject?: string;
  thread?: string;
  /** Source id of the inbound message this one answers (from XEP-0461 or the thread). */
  inReplyTo?: string;
  attachments: Attachment[];
  sentAt: Date;
  /** The XMPP stanza id, for de-duplication and error replies. */
  sourceId: string;
  nick?: string;
  /** Set for a message to a group chat: it goes to all of the group's participants. */
  group?: OutboundGroup;
  /** Set when an earlier process (killed, or cut off from the store) may have handed this message to
   *  the network without recording the answer: a transport that can ask the network what it already
   *  has should do so before sending again. */
  uncertain?: boolean;
}

/** `providerCode`: the provider's or server's own code for the failure (Twilio 21211, SMTP 550);
 *  the core counts failures by it (switchboard_provider_errors_total). */
export type SendResult =
  | { kind: "accepted"; providerId: string }
  | {
      kind: "temporary";
      reason: string;
      retryAfterMs?: number;
      providerCode?: string;
      /** The network may have the message though no answer came back: the next attempt is `uncertain`. */
      unanswered?: boolean;
    }
  | { kind: "permanent"; reason: string; providerCode?: string };

/** Keeps attachments and serves them at unguessable URLs under the gateway's public URL. */
export interface MediaStore {
  /** Keep `data` and return the attachment with its public URL. Older attachments are removed to
   *  make room; one larger than the whole quota is refused with a GatewayError. */
  put(input: { data: Buffer; mediaType: string; name?: string }): Promise<Attachment>;
}

export type AccountState = { ok: true } | { ok: false; reason: string };

export type DeliveryStatus = { state: "delivered" } | { state: "failed"; reason: string };

export interface Delivery {
  /** True when this source id was handed over before. Nothing is sent twice: a message the XMPP
   *  server already has is not sent again; one stored but not yet with the server (the link refused
   *  it) is sent now, and `delivered` waits for it. */
  duplicate: boolean;
  /** Set when the user's policy keeps this message out of XMPP (it was not sent; leave it at its source). */
  filtered?: string;
  /** Resolves once the XMPP server has the stanza (the message may then be marked done at its source). */
  delivered: Promise<void>;
}

export interface AddressCodec {
  /** Legacy address from what a user typed or a JID local part held (already XEP-0106-unescaped).
   *  Returns the canonical address or throws a GatewayError (jid-malformed) saying what is wrong. */
  parse(text: string): string;
  /** Words for the jabber:iq:gateway prompt, e.g. "E-mail address". */
  prompt: string;
  description: string;
  /** How a contact's vCard (vcard-temp) carries the address, e.g. EMAIL with INTERNET and USERID, or
   *  TEL with CELL and NUMBER. Without it the address goes in a NOTE. */
  vcard?(address: string): VcardField;
}

/** One vcard-temp field: its element and its children, each a text or an empty flag element. */
export interface VcardField {
  element: string;
  children: Array<[name: string, text?: string]>;
}

/**
 * What the network behind a transport can carry, declared by the transport and read by the core:
 * disco advertises only these, and the core shapes messages and limits by them.
 */
export interface Capabilities {
  /** The network reports delivery to the recipient: XEP-0184 receipts are passed on. */
  receipts: boolean;
  /** Files, up to `maxBytes` each (bigger ones go as links or are refused, as the transport says). */
  attachments?: { maxBytes: number };
  /** Messages carry a subject line (XEP-0004 <subject>). */
  subject: boolean;
  /** Messages belong to threads the network keeps (<thread>, XEP-0461 replies). */
  threads: boolean;
  /** What becomes of a user's correction (XEP-0308) of a message already sent: "new-message" sends
   *  the new text as a message of its own, marked as a correction ("Correction: …"); "none" refuses it
   *  with an error that says the first message stands. See docs/message-features.md. */
  corrections: "new-message" | "none";
  /** What becomes of a user's reaction (XEP-0444): "text" sends it as the line phones show
   *  (`Reacted 👍 to "…"`); "none" sends nothing and tells the user so. */
  reactions: "text" | "none";
  /** What becomes of a user's retraction (XEP-0424): "note" sends a short note that the user deleted a
   *  message, quoting it (nobody can delete what the other side received); "none" sends nothing and
   *  tells the user that the message stands. Unset: "none". */
  retractions?: "note" | "none";
  /** Reactions arrive as text (phones' `Liked "…"`, `Reacted 👍 to "…"`): the core recognises them and
   *  passes them on as XEP-0444 reactions to the user's message they quote. Unset: false. */
  reactionTexts?: boolean;
  /** The network shows typing (XEP-0085 chat states) to the other side. Unset: false; chat states
   *  sent to a network without them are dropped without a word, never sent as text. */
  chatStates?: boolean;
  /** The transport sends one message to several people (OutboundMessage.group) and marks messages of
   *  conversations with several people (InboundMessage.group): the core hosts group chats for it and
   *  offers users to start one (docs/groups.md). Unset: false. */
  groups?: boolean;
  /** The longest body one message carries; longer ones are split or cut by the transport. */
  maxBodyChars?: number;
  /** Spend caps the operator set: messages a user may send in a day. */
  messagesPerUserPerDay?: number;
}

/** A setting of the user's that only this transport has (shown in the user's settings command). */
export interface TransportPreference {
  var: string;
  label: string;
  /** The choices, the first being the default. */
  options: Array<{ value: string; label: string }>;
}

/** What the core knows when a transport decides whether an incoming message reaches the user. */
export interface IncomingContext {
  /** The sender, in the transport's canonical form. */
  peer: string;
  /** The user's values of the transport's preferences (defaults filled in). */
  preferences: Record<string, string>;
  /** Whether the user has written to this sender through the gateway before (read when asked). */
  wroteTo(): Promise<boolean>;
}

export interface TransportContext {
  /** The transport's component domain, e.g. email.example.org. */
  domain: string;
  log: Logger;
  /** A store table private to this transport (names are prefixed with the transport's name). */
  table<T>(name: string): Table<T>;
  http: HttpRouter;
  /** The base URL at which the gateway's HTTP listener is reachable from outside. */
  readonly publicUrl: string;
  /** Keeps attachments and serves them at unguessable URLs under publicUrl. */
  media: MediaStore;
  /** The one way into XMPP. Resolves once the message is stored; `delivered` once the server has it. */
  deliver(message: InboundMessage): Promise<Delivery>;
  /** Delivery news for a message accepted earlier under `providerId`. */
  reportStatus(providerId: string, status: DeliveryStatus): Promise<void>;
  /** Whether the user's legacy account works (IMAP login, Twilio credentials); the user sees it
   *  as the transport's and the contacts' presence, with `reason` as status text when it does not. */
  setAccountState(user: BareJid, state: AccountState): void;
  metrics: Metrics;
  /** Every registered user of this transport with their (decrypted) fields. */
  registrations(): AsyncIterable<[BareJid, Fields]>;
}

export interface Transport {
  readonly name: string;
  /** XEP-0030 identity type under category "gateway": smtp, sms, ... */
  readonly identityType: string;
  readonly displayName: string;
  readonly address: AddressCodec;
  readonly capabilities: Capabilities;
  /** Settings of the user's that belong to this transport (the core keeps their values). */
  readonly preferences?: readonly TransportPreference[];
  /** Whether an incoming message should reach the user, by their preferences: undefined to keep it,
   *  or why not (the message then stays at its source). */
  filterIncoming?(context: IncomingContext): Promise<string | undefined>;
  /** Field names whose values are secrets: encrypted at rest, never echoed back. */
  readonly secretFields: readonly string[];
  /** The fields that say where the secret `secretField` is sent (its server, user name, account).
   *  Called by the core when a registered user changes their settings and leaves that secret empty:
   *  if one of these fields changed, the stored secret is not carried over and the change is refused
   *  until the user enters the secret again, so that nobody holding the user's session (nor an admin)
   *  can send it to a server of their choosing. Without it, a stored secret is kept whatever else
   *  changes. Must be quick and must not do I/O. */
  secretBinding?(secretField: string): readonly string[];

  registrationForm(user: BareJid, current?: Fields): RegistrationForm | Promise<RegistrationForm>;
  start(context: TransportContext): Promise<void>;
  stop(): Promise<void>;
  /** Check and accept a registration. Returns the fields to keep; throws a GatewayError to refuse. */
  register(user: BareJid, fields: Fields, previous?: Fields): Promise<Fields>;
  unregister(user: BareJid, fields: Fields): Promise<void>;
  send(message: OutboundMessage, account: Fields): Promise<SendResult>;
}

/** What a transport folder's index exports. */
export interface TransportModule<Config = unknown> {
  name: string;
  configSchema: z.ZodType<Config>;
  create(config: Config, log: Logger): Transport;
}

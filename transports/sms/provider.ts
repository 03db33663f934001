// What the SMS transport needs from an SMS provider. Each provider is a folder under providers/
// (Twilio, Telnyx) that implements this; nothing else in transports/sms knows whose API it is.
import type { IncomingHttpHeaders } from "node:http";
import type { Fields, FormField } from "../../src/transport/contract.js";
import type { Table } from "../../src/transport/index.js";
import type { PhoneAddress } from "./phone.js";

/** An account at the provider: the operator's, or one a user brought. */
export interface ProviderAccount {
  /** Stable and not secret; what number bindings and webhooks name the account by
   *  (Twilio: the Account SID; Telnyx: the account's webhook public key). */
  id: string;
  /** The credentials as the provider defines them, under the registration form's field names. */
  credentials: Readonly<Record<string, string>>;
}

export interface OutgoingText {
  from: string;
  to: string;
  body: string;
  mediaUrls: string[];
  /** Where the provider posts this text's delivery events. */
  statusCallback: string;
}

/** One text to several people at once (a group MMS): every recipient sees the others. */
export interface OutgoingGroupText {
  from: string;
  to: string[];
  body: string;
  mediaUrls: string[];
  statusCallback: string;
}

/** A refusal or failure from the provider's API, with its own code (as text) when it gave one. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly options: {
      httpStatus?: number;
      code?: string;
      temporary: boolean;
      retryAfterMs?: number;
      /** The provider refused the account's credentials. */
      auth?: boolean;
      /** The provider asked the gateway to slow down. */
      rateLimited?: boolean;
      /** No answer came back, though the request may have reached the provider (a connection cut or
       *  timed out after it was written): it may have carried the request out. */
      unanswered?: boolean;
    },
  ) {
    super(message);
    this.name = "ProviderError";
  }
}

/** Network failures that mean the request never left: nothing was connected to, or the name did not resolve. */
const NEVER_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/** A call that got no answer from `provider`; `unanswered` unless the request cannot have left. */
export function noAnswerError(provider: string, error: unknown): ProviderError {
  let neverSent = false;
  for (let cause = error, depth = 0; cause && depth < 5; cause = (cause as { cause?: unknown }).cause, depth += 1)
    if (NEVER_SENT.has(String((cause as NodeJS.ErrnoException).code))) neverSent = true;
  return new ProviderError(`${provider} could not be reached: ${(error as Error).message}`, { temporary: true, unanswered: !neverSent });
}

/** An inbound text as the provider's webhook described it. */
export interface IncomingText {
  id: string;
  /** The account whose webhook signature checked out (set by the webhook layer, not the provider). */
  accountId: string;
  from: string;
  to: string;
  body: string;
  media: Array<{ url: string; mediaType: string }>;
  /** The opt-out keyword the provider acted on, if it says. */
  keyword?: string;
  /** A group text: everyone else the provider lists as its recipients (to and cc), as the provider
   *  wrote them; may name the gateway's own number again. Absent for a one-to-one text. */
  recipients?: string[];
}

export interface StatusUpdate {
  id: string;
  /** Final states matter; others (queued, sent…) are progress. */
  state: "delivered" | "failed" | "progress";
  /** The provider's own word for the state (undelivered, delivery_failed…). */
  detail: string;
  errorCode?: string;
}

/** A webhook request as it arrived: the public URL it was posted to, its headers and raw body. */
export interface WebhookRequest {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What a verified webhook says. */
export type WebhookEvent =
  | { kind: "incoming"; text: Omit<IncomingText, "accountId"> }
  | { kind: "status"; update: StatusUpdate }
  | { kind: "other"; type: string };

/** Which account a webhook says it comes from, before anything in it is trusted. */
export interface WebhookClaim {
  /** The account the request names (Twilio's AccountSid). */
  accountId?: string;
  /** The gateway's own number the event concerns, when the request names no account (Telnyx). */
  number?: string;
}

/** How the provider's accounts look: the operator's from the config, a user's from the form. */
export interface AccountKind {
  /** Form fields for a user's own account, shown before the number field. */
  credentialFields(current: Fields | undefined, note: string, required: boolean): FormField[];
  /** The form fields whose presence means the user wants their own account. */
  readonly credentialNames: readonly string[];
  readonly secretFields: readonly string[];
  /** The fields that say where a secret is sent (see Transport.secretBinding). */
  secretBinding(secretField: string): readonly string[];
  /** The account a user typed in the form; throws a GatewayError saying what is wrong. */
  fromForm(fields: Fields): ProviderAccount;
  /** The account kept in a registration, when it has one. */
  fromStored(fields: Fields): ProviderAccount | undefined;
  /** Sentences for the registration form and its refusals. */
  readonly words: {
    /** "Twilio Account SID, Auth Token" — what a user enters besides the number. */
    credentials: string;
    /** What to do when the provider refuses them. */
    refused: string;
    numberLabel: string;
    numberOf(number: string, account: ProviderAccount): string;
  };
}

/** A text an account sent, as the provider lists it. */
export interface ListedText {
  id: string;
  body: string;
  /** How many media it carries. */
  media: number;
  createdAt: Date;
}

export type Params = Record<string, string | string[]>;

export interface SmsProvider {
  readonly name: string;
  /** The provider's name as users read it: "Twilio", "Telnyx". */
  readonly displayName: string;
  readonly accounts: AccountKind;
  /** The operator's account, from the config section. */
  readonly operatorAccount?: ProviderAccount;
  /** Most characters one text may carry, and most media one MMS may carry; `groupRecipients`, most
   *  people a group text may go to (the sender not counted), when the provider has sendGroup. */
  readonly limits: { bodyChars: number; media: number; groupRecipients?: number };

  /** Throws ProviderError; resolves with the provider's id for the text. */
  send(account: ProviderAccount, text: OutgoingText): Promise<{ id: string }>;
  /** One group MMS to all of `text.to`; throws ProviderError. Absent: the provider carries no group
   *  texts, and the transport does not offer group chats with it. */
  sendGroup?(account: ProviderAccount, text: OutgoingGroupText): Promise<{ id: string }>;
  /** The latest texts (at most `limit`, newest first) the account sent from `from` to `to`: where a
   *  process died after handing a text over and before recording the answer, the next one looks
   *  here before sending it again. Throws ProviderError. Absent: such a text is sent again. */
  recentTexts?(account: ProviderAccount, conversation: { from: string; to: string }, limit: number): Promise<ListedText[]>;
  /** Throws ProviderError when the credentials are refused or the API cannot be reached. */
  verifyAccount(account: ProviderAccount): Promise<void>;
  /** What pointNumber needs to point one of the account's numbers, or undefined when the account
   *  does not own it. Throws a GatewayError when it owns the number but it cannot take texts. */
  findNumber(account: ProviderAccount, number: PhoneAddress): Promise<string | undefined>;
  /** Make the number's inbound texts go to `smsUrl` (null: stop sending them to the gateway). */
  pointNumber(account: ProviderAccount, numberId: string, smsUrl: string | null): Promise<void>;
  fetchMedia(account: ProviderAccount, url: string, maxBytes: number): Promise<{ data: Buffer; mediaType: string }>;
  /** The user texting through `number` left: what the provider remembers of conversations through
   *  it (members' numbers) goes; returns how many records. Absent: it remembers none. */
  forgetNumber?(account: ProviderAccount, number: PhoneAddress): Promise<number>;
  /** A sentence for one of the provider's error codes, with the code for support requests. */
  describeError(code: string | undefined, fallback?: string): string;

  /** Webhooks: the one content type the provider posts. */
  readonly webhookContentType: string;
  /** Reads, without trusting it, which account a webhook claims to come from. */
  claim(request: WebhookRequest): WebhookClaim;
  /** Whether the request is signed by `account` (and, where the provider signs a time, recently). */
  verify(request: WebhookRequest, account: ProviderAccount): Promise<boolean>;
  /** What a verified webhook posted to `endpoint` says, for `account` (whose signature it carries);
   *  throws ProviderError when it is malformed, or a temporary one when the provider's API had to be
   *  asked about it and could not answer (Twilio's group texts name only their conversation). */
  read(request: WebhookRequest, endpoint: "incoming" | "status", account?: ProviderAccount): WebhookEvent | Promise<WebhookEvent>;
  /** The answer to a webhook that was handled. */
  readonly webhookAnswer: { contentType: string; body: string };
}

/** Tables of the gateway's store, private to the SMS transport, for what a provider must remember
 *  across restarts. */
export interface ProviderStore {
  table<T>(name: string): Table<T>;
}

/** The provider a config chooses, before the transport starts: what the core asks of it from the
 *  first (its kind of account, whether it offers group chats), and how it is made once the transport
 *  has its store. */
export interface ProviderFactory {
  readonly accounts: AccountKind;
  /** Whether the provider it makes has sendGroup. */
  readonly groupTexts: boolean;
  /** Called once each time the transport starts, before any send or webhook. */
  create(store: ProviderStore): SmsProvider;
}

// What the SMS transport needs from a provider; Twilio is one (twilio.ts), another is a new file.
import type { PhoneAddress } from "./phone.js";

export interface ProviderAccount {
  accountSid: string;
  authToken: string;
}

export interface OutgoingText {
  from: string;
  to: string;
  body: string;
  mediaUrls: string[];
  statusCallback: string;
}

/** A refusal or failure from the provider's API, with its numbered code when it gave one. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly options: { httpStatus?: number; code?: number; temporary: boolean; retryAfterMs?: number },
  ) {
    super(message);
    this.name = "ProviderError";
  }
}

/** An inbound text as the provider's webhook described it. */
export interface IncomingText {
  id: string;
  accountId: string;
  from: string;
  to: string;
  body: string;
  media: Array<{ url: string; mediaType: string }>;
  /** The opt-out keyword the provider acted on, if it says. */
  keyword?: string;
}

export interface StatusUpdate {
  id: string;
  accountId: string;
  /** Final states matter; others (queued, sent…) are progress. */
  state: "delivered" | "failed" | "progress";
  /** The provider's own word for the state (undelivered, canceled…). */
  detail: string;
  errorCode?: number;
}

export type Params = Record<string, string | string[]>;

export interface SmsProvider {
  readonly name: string;
  /** Throws ProviderError; resolves with the provider's id for the text. */
  send(account: ProviderAccount, text: OutgoingText): Promise<{ id: string }>;
  /** Throws ProviderError when the credentials are refused or the API cannot be reached. */
  verifyAccount(account: ProviderAccount): Promise<void>;
  /** The provider's id for one of the account's numbers, or undefined when the account does not own it. */
  findNumber(account: ProviderAccount, number: PhoneAddress): Promise<string | undefined>;
  /** Make the number's inbound texts go to `smsUrl`. */
  pointNumber(account: ProviderAccount, numberId: string, smsUrl: string | null): Promise<void>;
  fetchMedia(account: ProviderAccount, url: string, maxBytes: number): Promise<{ data: Buffer; mediaType: string }>;

  /** Webhooks: signature check and field reading. */
  signatureHeader: string;
  checkSignature(authToken: string, signature: string, url: string, params: Params): boolean;
  readIncoming(params: Params): IncomingText;
  readStatus(params: Params): StatusUpdate;
}

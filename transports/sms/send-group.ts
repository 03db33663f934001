// A user's message in a group text's chat: its people (the room's, less the user's own number),
// checked against the provider's limit, then sent part by part as group MMS by the one sender
// (send.ts). A group the user started from XMPP first notes which room its answers belong in.
import type { Logger } from "pino";
import { GatewayError, type Table } from "../../src/transport/index.js";
import type { AddressCodec, Fields, OutboundMessage, SendResult } from "../../src/transport/contract.js";
import type { Accounts } from "./accounts.js";
import { groupKeyOf } from "./group-in.js";
import type { SmsProvider } from "./provider.js";

/** A group not written to for this long forgets its room; its next text makes a new one. */
const GROUP_KEY_TTL_MS = 365 * 24 * 3_600_000;

export function createGroupSender(options: {
  provider: SmsProvider;
  accounts: Accounts;
  codec: AddressCodec;
  /** The one sender, which sends a message to the people it is given as group MMS. */
  send: (message: OutboundMessage, fields: Fields, group: { to: string[] }) => Promise<SendResult>;
  /** A group the user started from XMPP has a key of the core's: answers to it must find its room. */
  groupKeys: Table<string>;
  log: Logger;
}): (message: OutboundMessage & { group: NonNullable<OutboundMessage["group"]> }, fields: Fields) => Promise<SendResult> {
  const { provider, accounts, codec, log } = options;
  const brand = provider.displayName;
  const most = provider.limits.groupRecipients ?? 0;

  return async (message, fields) => {
    if (!provider.sendGroup) return { kind: "permanent", reason: `${brand} carries no group texts through this gateway.` };
    let from: string;
    try {
      from = accounts.senderOf(fields).from;
    } catch (error) {
      return { kind: "permanent", reason: error instanceof GatewayError ? error.message : "Your registration is incomplete." };
    }
    const recipients = new Set<string>();
    for (const address of [...message.group.to, ...message.group.cc]) {
      try {
        recipients.add(codec.parse(address));
      } catch {
        // A room's people came from verified webhooks and were parsed then; nothing to send to here.
      }
    }
    recipients.delete(from);
    const to = [...recipients];
    if (to.length === 0) return { kind: "permanent", reason: "This group text has nobody left to write to." };
    if (to.length > most) {
      return { kind: "permanent", reason: `${brand} sends a group text to at most ${most} people; this group has ${to.length}. Nothing was sent.` };
    }
    // Noted before the text leaves: an answer can come back before the send's bookkeeping is done.
    const texted = groupKeyOf(from, to);
    if (texted !== message.group.key) {
      try {
        await options.groupKeys.set(texted, message.group.key, GROUP_KEY_TTL_MS);
      } catch (error) {
        log.warn({ user: message.user, id: message.id, err: error }, "could not note which room a group's answers go to; the text waits");
        return { kind: "temporary", reason: "The gateway could not store this group chat's people; it tries again shortly." };
      }
    }
    return options.send(message, fields, { to });
  };
}

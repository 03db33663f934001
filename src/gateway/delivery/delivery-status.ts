// What happens after the transport took a message: receipts when it arrived, errors when it failed.
import { randomUUID } from "node:crypto";
import { GatewayError, type StanzaCondition } from "../../errors.js";
import type { TransportLedger } from "../../store/ledger/ledger.js";
import type { DeliveryStatus } from "../../transport/contract.js";
import { xml } from "../../xmpp/xml.js";
import type { Gateway } from "../gateway.js";
import { NS } from "../gateway.js";
import type { OutboxEntry, OutboxEvents } from "./outbox.js";
import { errorChild } from "../stanza-errors.js";
import { createKeyedQueue } from "../../transport/keyed-queue.js";
import type { PreferenceStore } from "../state/preferences.js";
import type { BareJid } from "../../xmpp/jid.js";

export interface SentRecord {
  user: string;
  replyTo: string;
  contactJid: string;
  stanzaId?: string;
  wantsReceipt: boolean;
  body: string;
}

const SENT_TTL_MS = 14 * 24 * 3_600_000;

export interface DeliveryTracker extends OutboxEvents {
  report(providerId: string, status: DeliveryStatus): Promise<void>;
}

const EARLY_TTL_MS = 10 * 60_000;

/** A failure later than this after the user wrote the message may find the resource that wrote it gone. */
const LATE_MS = 60_000;

export function createDeliveryTracker(
  gateway: Gateway,
  ledger: TransportLedger,
  preferences: PreferenceStore,
  /** The user's resources that sent the gateway their presence. */
  onlineResources: (user: BareJid) => string[],
): DeliveryTracker {
  const { log } = gateway;
  // accepted() and report() for one message must not interleave, or a status could be parked
  // just after accepted() looked for it.
  const perMessage = createKeyedQueue();
  // Statuses that came before their send returned. Memory is enough: after a restart the outbox
  // sends such a message again under a new provider id.
  const early = new Map<string, { status: DeliveryStatus; until: number }>();

  const bounce = async (
    record: Omit<SentRecord, "wantsReceipt">,
    reason: string,
    condition: StanzaCondition = "undefined-condition",
    late = false,
  ): Promise<void> => {
    // The server drops an error message to a resource that is offline, and never stores one: a late
    // failure whose resource is gone is told to the account as a chat message, which is kept offline.
    // A user who shares no presence with the gateway may still be online there: then both go.
    const online = late ? onlineResources(record.user as BareJid) : [record.replyTo];
    if (!online.includes(record.replyTo)) {
      await gateway.send(
        xml(
          "message",
          { type: "chat", from: record.contactJid, to: record.user, id: randomUUID() },
          xml("body", {}, `Not delivered: ${reason}\n${quoted(record.body)}`),
        ),
      );
      if (online.length > 0) return;
    }
    const error = new GatewayError(condition, reason, { type: "cancel" });
    // The original body goes back with the error so the user sees which message failed.
    await gateway.send(
      xml(
        "message",
        { type: "error", from: record.contactJid, to: record.replyTo, id: record.stanzaId ?? randomUUID() },
        xml("body", {}, record.body),
        errorChild(error),
      ),
    );
  };

  return {
    accepted(entry: OutboxEntry, providerId: string) {
      return perMessage.run(providerId, () => accept(entry, providerId));
    },
    failed(entry: OutboxEntry, reason: string) {
      const { message } = entry;
      const late = Date.now() - new Date(message.sentAt).getTime() > LATE_MS;
      return bounce(
        {
          user: message.user,
          replyTo: entry.replyTo,
          contactJid: entry.contactJid,
          body: message.body,
          ...(message.sourceId !== message.id && { stanzaId: message.sourceId }),
        },
        reason,
        undefined,
        late,
      );
    },
    report(providerId, status) {
      return perMessage.run(providerId, () => report(providerId, status));
    },
  };

  async function accept(entry: OutboxEntry, providerId: string): Promise<void> {
    const { message } = entry;
    const waiting = early.get(providerId);
    const record: SentRecord = {
      user: message.user,
      replyTo: entry.replyTo,
      contactJid: entry.contactJid,
      wantsReceipt: entry.wantsReceipt,
      body: message.body,
      ...(message.sourceId !== message.id && { stanzaId: message.sourceId }),
    };
    await ledger.seenPut("sent", providerId, message.user, record, Date.now() + SENT_TTL_MS);
    // A fast provider can report on a message before its send call has returned.
    if (waiting) {
      early.delete(providerId);
      if (waiting.until > Date.now()) await report(providerId, waiting.status);
    }
  }

  async function report(providerId: string, status: DeliveryStatus): Promise<void> {
    const record = await ledger.seenGet<SentRecord>("sent", providerId, Date.now());
    if (!record) {
      // Perhaps its send has not returned yet: keep the news a while for accept() to apply.
      log.debug({ providerId, state: status.state }, "status for a message not (yet) known; kept for a while");
      const now = Date.now();
      for (const [id, entry] of early) if (entry.until < now) early.delete(id);
      early.set(providerId, { status, until: now + EARLY_TTL_MS });
      return;
    }
    if (status.state === "delivered") {
      if (record.wantsReceipt && record.stanzaId && (await preferences.get(record.user as BareJid)).receipts) {
        await gateway.send(
          xml("message", { from: record.contactJid, to: record.replyTo, id: randomUUID() }, xml("received", { xmlns: NS.receipts, id: record.stanzaId })),
        );
      }
    } else {
      await bounce(record, status.reason, "recipient-unavailable", true);
    }
    await ledger.seenDelete("sent", providerId);
  }
}

/** The message that failed, quoted so that the user sees which one it was. */
function quoted(body: string): string {
  const lines = body.split("\n");
  const shown = lines.slice(0, QUOTED_LINES).map((line) => `> ${line.length > QUOTED_CHARS ? `${line.slice(0, QUOTED_CHARS)}…` : line}`);
  return lines.length > QUOTED_LINES ? [...shown, "> …"].join("\n") : shown.join("\n");
}

const QUOTED_LINES = 5;
const QUOTED_CHARS = 200;

// Group texts through Twilio Conversations (Twilio's "Group Texting in Conversations"): the Messaging
// API sends to one number at a time, so a group text is a Conversation that holds each member as an
// SMS participant by their own number (MessagingBinding.Address, no proxy address) and the gateway's
// number as a standalone projected address (MessagingBinding.ProjectedAddress, no chat identity). The
// gateway writes into it with that number as the message's Author, and Twilio sends one group MMS to
// everyone else. A member's answer lands in the same Conversation (Twilio matches the whole set of
// numbers) and comes back as an onMessageAdded webhook, which names the conversation but not its
// people: they are remembered here per conversation, or listed from Twilio's API.
import type { Logger } from "pino";
import type twilio from "twilio";
import {
  ProviderError,
  type IncomingText,
  type OutgoingGroupText,
  type Params,
  type ProviderAccount,
  type ProviderStore,
  type StatusUpdate,
  type WebhookEvent,
} from "../../provider.js";

type TwilioClient = ReturnType<typeof twilio>;

/** "There is a limit of 10 total Participants in a Group MMS Conversation": the gateway's number is one. */
export const MAX_GROUP_MEMBERS = 9;
/** A Conversations message body "can be up to 1,600 characters long". */
const MAX_BODY_CHARS = 1_600;
/** Longer than any text a phone sends; such a webhook is not one we make sense of. */
const MAX_INBOUND_BODY_CHARS = 32_768;
/** An MMS carries at most ten media. */
const MAX_MEDIA = 10;
/** A group not written to for this long is looked up again (or made anew) at its next text. */
const REMEMBER_MS = 90 * 24 * 3_600_000;
/** How many of a member's conversations are searched for the one of a group Twilio already has. */
const MAX_CANDIDATES = 50;

const CONVERSATION_SID = /^CH[0-9a-fA-F]{32}$/;
const MESSAGE_SID = /^IM[0-9a-fA-F]{32}$/;
const MEDIA_SID = /^ME[0-9a-fA-F]{32}$/;
const SERVICE_SID = /^IS[0-9a-fA-F]{32}$/;
/** Twilio carries group texts only between +1 (US and Canada) long codes. */
const PLUS_ONE = /^\+1\d{10}$/;

/** What the gateway knows of one conversation: the account and number it goes through, and who else is in it. */
export interface KnownConversation {
  accountId: string;
  /** The gateway's number in it: its projected address (a group text) or proxy address (one-to-one). */
  own: string;
  /** Everyone else, by their own numbers, sorted. */
  members: string[];
  /** The Conversation Service it belongs to, which its media live under. */
  chatServiceSid?: string;
}

export interface GroupConversations {
  send(account: ProviderAccount, text: OutgoingGroupText): Promise<{ id: string }>;
  /** A verified Conversations webhook (it has an EventType); throws ProviderError when malformed,
   *  a temporary one when Twilio's API had to be asked and did not answer. */
  read(params: Params, account: ProviderAccount | undefined): Promise<WebhookEvent>;
  /** Forgets every conversation known through `own` in `account`; returns how many records went. */
  forgetNumber(account: ProviderAccount, own: string): Promise<number>;
}

/** Conversations events that change who is in a conversation: what was remembered of it is forgotten. */
const MEMBERSHIP_EVENTS = new Set(["onParticipantAdded", "onParticipantRemoved", "onParticipantUpdated", "onConversationRemoved"]);

export function createGroupConversations(options: {
  clientFor(account: ProviderAccount): TwilioClient;
  /** Runs an SDK call and turns its failures into ProviderErrors. */
  call<T>(run: () => Promise<T>): Promise<T>;
  /** The URL a conversation message's media is fetched from (through fetchMedia). */
  mediaUrl(chatServiceSid: string, mediaSid: string): string;
  store: ProviderStore;
  log: Logger;
}): GroupConversations {
  const { clientFor, call, store, log } = options;
  /** Each group's conversation, by account, the gateway's number and the others' numbers. */
  const groups = store.table<string>("twilio-group-conversations");
  /** What is known of each conversation, by its SID. */
  const conversations = store.table<KnownConversation>("twilio-conversations");
  /** Conversations being made, by group: two texts to a new group at once make one. */
  const building = new Map<string, Promise<string>>();

  const groupKey = (accountId: string, own: string, members: readonly string[]): string => `${accountId}:${own}:${members.join(",")}`;

  /** A store that cannot answer costs a lookup at Twilio, not the text. */
  const quietly = async <T>(what: string, run: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await run();
    } catch (error) {
      log.warn({ err: error }, `could not ${what}; Twilio is asked instead`);
      return undefined;
    }
  };

  /** A group text's conversation: where the gateway's messages to that group go, and who is in it. */
  const remember = async (account: ProviderAccount, sid: string, known: Omit<KnownConversation, "accountId">): Promise<void> => {
    const entry: KnownConversation = { accountId: account.id, ...known };
    await quietly("remember a group text's conversation", async () => {
      await conversations.set(sid, entry, REMEMBER_MS);
      await groups.set(groupKey(account.id, entry.own, entry.members), sid, REMEMBER_MS);
    });
  };

  const forget = async (sid: string): Promise<void> => {
    await quietly("forget a group text's conversation", async () => {
      const known = await conversations.get(sid);
      if (known && (await groups.get(groupKey(known.accountId, known.own, known.members))) === sid) {
        await groups.delete(groupKey(known.accountId, known.own, known.members));
      }
      await conversations.delete(sid);
    });
  };

  /** Who is in a conversation, as Twilio lists its participants. */
  const peopleOf = async (client: TwilioClient, sid: string): Promise<{ addresses: string[]; projected: string[]; proxies: string[] }> => {
    const participants = await call(() => client.conversations.v1.conversations(sid).participants.list({ limit: 100 }));
    const people = { addresses: [] as string[], projected: [] as string[], proxies: [] as string[] };
    for (const participant of participants) {
      const binding = (participant.messagingBinding ?? {}) as { address?: unknown; proxy_address?: unknown; projected_address?: unknown };
      if (typeof binding.address === "string" && binding.address) people.addresses.push(binding.address);
      if (typeof binding.projected_address === "string" && binding.projected_address) people.projected.push(binding.projected_address);
      if (typeof binding.proxy_address === "string" && binding.proxy_address) people.proxies.push(binding.proxy_address);
    }
    return people;
  };

  const addParticipants = async (client: TwilioClient, sid: string, own: string, members: readonly string[]): Promise<void> => {
    const participants = client.conversations.v1.conversations(sid).participants;
    const add = async (params: Parameters<typeof participants.create>[0]): Promise<void> => {
      try {
        await call(() => participants.create(params));
      } catch (error) {
        // "Group Participant already exists": a repair, or a race; the participant is there.
        if (!(error instanceof ProviderError && error.options.code === "50437")) throw error;
      }
    };
    // The gateway's number first: it is what makes this a group text, not a chat.
    await add({ "messagingBinding.projectedAddress": own });
    for (const member of members) await add({ "messagingBinding.address": member });
  };

  /** The conversation Twilio already has for exactly this group (one Twilio made for an inbound group text). */
  const locate = async (account: ProviderAccount, own: string, members: readonly string[]): Promise<{ sid: string; chatServiceSid?: string } | undefined> => {
    const client = clientFor(account);
    const candidates = await call(() => client.conversations.v1.participantConversations.list({ address: members[0]!, limit: MAX_CANDIDATES }));
    for (const candidate of candidates) {
      if (candidate.conversationState === "closed" || !CONVERSATION_SID.test(candidate.conversationSid ?? "")) continue;
      const people = await peopleOf(client, candidate.conversationSid);
      if (people.projected.includes(own) && sameSet(people.addresses, members)) {
        return { sid: candidate.conversationSid, ...(candidate.chatServiceSid && { chatServiceSid: candidate.chatServiceSid }) };
      }
    }
    return undefined;
  };

  /** Makes the conversation of a group: the conversation, a webhook of its own, the participants. */
  const build = async (account: ProviderAccount, own: string, members: string[], webhookUrl: string): Promise<string> => {
    const client = clientFor(account);
    const conversation = await call(() => client.conversations.v1.conversations.create({ friendlyName: `Group text of ${own} with ${members.length} others` }));
    const sid = conversation.sid;
    try {
      // Answers in a group the gateway made reach it even where no Conversations webhook is set in the
      // console: Twilio routes them into this conversation, never to the number's messaging webhook.
      if (webhookUrl) {
        await call(() =>
          client.conversations.v1.conversations(sid).webhooks.create({
            target: "webhook",
            "configuration.url": webhookUrl,
            "configuration.method": "post",
            "configuration.filters": ["onMessageAdded", "onDeliveryUpdated"],
          }),
        );
      }
      await addParticipants(client, sid, own, members);
    } catch (error) {
      // "Group conversation with given participant list already exists": Twilio made it, for a text a
      // member started, or an earlier run did and it was forgotten here. That one is used instead.
      const existing =
        error instanceof ProviderError && error.options.code === "50438"
          ? await locate(account, own, members).catch((failure: unknown) => {
              log.warn({ reason: (failure as Error).message }, "could not find the conversation Twilio has for a group text");
              return undefined;
            })
          : undefined;
      // What was made of this one goes, so that a later try starts clean.
      await call(() => client.conversations.v1.conversations(sid).remove()).catch((failure: unknown) =>
        log.warn({ conversation: sid, reason: (failure as Error).message }, "could not remove a conversation left half made"),
      );
      if (!existing) throw error;
      log.info({ conversation: existing.sid }, "Twilio already has a conversation for this group text; it is used");
      await remember(account, existing.sid, { own, members, ...(existing.chatServiceSid && { chatServiceSid: existing.chatServiceSid }) });
      return existing.sid;
    }
    log.info({ conversation: sid, people: members.length + 1 }, "made a Twilio conversation for a group text");
    await remember(account, sid, { own, members, ...(conversation.chatServiceSid && { chatServiceSid: conversation.chatServiceSid }) });
    return sid;
  };

  const conversationFor = async (account: ProviderAccount, own: string, members: string[], webhookUrl: string): Promise<string> => {
    const key = groupKey(account.id, own, members);
    const known = await quietly("look up a group text's conversation", () => groups.get(key));
    if (known) return known;
    const running = building.get(key);
    if (running) return running;
    const made = build(account, own, members, webhookUrl).finally(() => building.delete(key));
    building.set(key, made);
    return made;
  };

  /** What is known of a conversation of `account`, from memory or from Twilio; undefined when the
   *  gateway has no number in it or Twilio does not know it. */
  const knownConversation = async (account: ProviderAccount, sid: string, fresh: boolean): Promise<KnownConversation | undefined> => {
    if (!fresh) {
      const known = await quietly("look up a conversation's people", () => conversations.get(sid));
      if (known && known.accountId === account.id) return known;
    }
    const client = clientFor(account);
    let people: Awaited<ReturnType<typeof peopleOf>>;
    let chatServiceSid: string | undefined;
    try {
      const [conversation, listed] = await Promise.all([call(() => client.conversations.v1.conversations(sid).fetch()), peopleOf(client, sid)]);
      people = listed;
      chatServiceSid = SERVICE_SID.test(conversation.chatServiceSid ?? "") ? conversation.chatServiceSid : undefined;
    } catch (error) {
      if (isGone(error)) return undefined;
      throw error;
    }
    // A group text has the gateway's number as its projected address; a one-to-one conversation (a
    // number with autocreation on) as the member's proxy address.
    const own = people.projected[0] ?? people.proxies[0];
    if (!own) return undefined;
    const members = [...new Set([...people.addresses, ...people.projected.slice(1)])].filter((number) => number !== own).sort();
    const entry = { own, members, ...(chatServiceSid && { chatServiceSid }) };
    if (people.projected.length > 0) await remember(account, sid, entry);
    else await quietly("remember a conversation's people", () => conversations.set(sid, { accountId: account.id, ...entry }, REMEMBER_MS));
    return { accountId: account.id, ...entry };
  };

  const readMessage = async (params: Params, account: ProviderAccount | undefined): Promise<WebhookEvent> => {
    const sid = single(params, "ConversationSid");
    const id = single(params, "MessageSid");
    const author = single(params, "Author");
    const body = single(params, "Body");
    if (!CONVERSATION_SID.test(sid)) throw malformed("onMessageAdded lacks a ConversationSid");
    if (!MESSAGE_SID.test(id)) throw malformed("onMessageAdded lacks a MessageSid");
    if (!author || author.length > 256) throw malformed("onMessageAdded lacks an Author");
    if (body.length > MAX_INBOUND_BODY_CHARS) throw malformed(`onMessageAdded has a Body longer than ${MAX_INBOUND_BODY_CHARS} characters`);
    const media = readMediaList(single(params, "Media"));
    if (!account) throw malformed("a Conversations event read without its account");

    let known = await knownConversation(account, sid, false);
    // Someone the remembered list lacks: the conversation may have changed since.
    if (known && author !== known.own && !known.members.includes(author)) known = await knownConversation(account, sid, true);
    const context = { conversation: sid, messageId: id };
    if (!known) {
      log.info(context, "a Conversations message in a conversation without the gateway's number; ignored");
      return { kind: "other", type: "onMessageAdded (no number of the gateway)" };
    }
    if (author === known.own) {
      // What the gateway itself wrote, echoed (the webhook was asked for REST messages too).
      log.debug(context, "the echo of a group text the gateway sent; ignored");
      return { kind: "other", type: "onMessageAdded (the gateway's own)" };
    }
    if (!known.members.includes(author)) {
      log.info(context, "a Conversations message from someone who texts from no number (a chat identity); ignored");
      return { kind: "other", type: "onMessageAdded (not from a phone)" };
    }
    const { chatServiceSid } = known;
    const recipients = known.members.filter((number) => number !== author);
    const text: Omit<IncomingText, "accountId"> = {
      id,
      from: author,
      to: known.own,
      body,
      // Without the conversation's service the media cannot be named: the user is told one is missing.
      media: media.map((item) => ({
        url: chatServiceSid ? options.mediaUrl(chatServiceSid, item.sid) : `unknown-service:${item.sid}`,
        mediaType: item.contentType,
      })),
      ...(recipients.length > 0 && { recipients }),
    };
    return { kind: "incoming", text };
  };

  return {
    async forgetNumber(account, own) {
      // The trailing colon: "+14155550100" must not take "+141555501000"'s groups with it.
      let removed = await groups.deletePrefix(`${account.id}:${own}:`);
      // Conversations are keyed by their SID: listed (paged by key) and picked by what they hold.
      const through: string[] = [];
      for await (const [sid, known] of conversations.entries()) if (known.accountId === account.id && known.own === own) through.push(sid);
      for (const sid of through) if (await conversations.delete(sid)) removed += 1;
      return removed;
    },
    async send(account, text) {
      const own = text.from;
      const members = [...new Set(text.to)].filter((number) => number !== own).sort();
      if (members.length === 0) throw refusal("A group text needs someone to go to.");
      if (members.length > MAX_GROUP_MEMBERS) {
        throw refusal(`Twilio sends a group text to at most ${MAX_GROUP_MEMBERS} people besides the sender; this one has ${members.length}. Nothing was sent.`);
      }
      const foreign = [own, ...members].find((number) => !PLUS_ONE.test(number));
      if (foreign) throw refusal(`Twilio carries group texts only between US and Canadian (+1) numbers, and ${foreign} is not one. Nothing was sent.`);
      // A Conversations message takes one media item, uploaded to Twilio beforehand; the gateway
      // sends the attachments' links in the text instead (a client's upload is usually its own body).
      const body = [text.body, ...text.mediaUrls.filter((url) => !text.body.includes(url))].filter(Boolean).join("\n");
      if (!body) throw refusal("A group text needs words or an attachment.");
      if (body.length > MAX_BODY_CHARS) {
        throw refusal(`Twilio group texts carry attachments as links, and with them this text is longer than ${MAX_BODY_CHARS} characters. Nothing was sent.`);
      }
      const client = clientFor(account);
      let sid = await conversationFor(account, own, members, text.statusCallback);
      for (let attempt = 1; ; attempt += 1) {
        try {
          const message = await call(() => client.conversations.v1.conversations(sid).messages.create({ author: own, body }));
          return { id: message.sid };
        } catch (error) {
          if (attempt > 1 || !(error instanceof ProviderError)) throw error;
          if (isGone(error)) {
            // Twilio forgot the conversation (deleted in the console, or closed and purged): a new one.
            log.info({ conversation: sid }, "Twilio no longer knows a group text's conversation; making it again");
            await forget(sid);
            sid = await conversationFor(account, own, members, text.statusCallback);
            continue;
          }
          if (error.options.code === "50513") {
            // "Message author should be among Group MMS participants": the gateway's number was taken out.
            log.info({ conversation: sid }, "the gateway's number is no longer in a group text's conversation; adding it again");
            await addParticipants(client, sid, own, members);
            continue;
          }
          throw error;
        }
      }
    },

    async read(params, account) {
      const type = single(params, "EventType");
      if (type === "onMessageAdded") return readMessage(params, account);
      if (type === "onDeliveryUpdated") return { kind: "status", update: readDelivery(params) };
      if (MEMBERSHIP_EVENTS.has(type)) {
        const sid = single(params, "ConversationSid");
        if (CONVERSATION_SID.test(sid)) await forget(sid);
      }
      return { kind: "other", type: type.slice(0, 64) || "(no EventType)" };
    },
  };
}

/** A delivery receipt of one member of a group text, for the message the gateway sent (IM…). */
function readDelivery(params: Params): StatusUpdate {
  const id = single(params, "MessageSid");
  const status = single(params, "Status");
  if (!MESSAGE_SID.test(id) || !status) throw malformed("onDeliveryUpdated lacks MessageSid or Status");
  const code = Number(single(params, "ErrorCode"));
  const state = status === "delivered" || status === "read" ? "delivered" : status === "failed" || status === "undelivered" ? "failed" : "progress";
  return { id, state, detail: status, ...(Number.isInteger(code) && code > 0 && { errorCode: String(code) }) };
}

/** The Media field of a message event: a JSON list of {Sid, ContentType, Filename, Size}. */
function readMediaList(raw: string): Array<{ sid: string; contentType: string }> {
  if (!raw) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw malformed("onMessageAdded has a Media field that is not JSON");
  }
  if (parsed === null) return [];
  if (!Array.isArray(parsed)) throw malformed("onMessageAdded has a Media field that is not a list");
  if (parsed.length > MAX_MEDIA) throw malformed(`onMessageAdded lists more than ${MAX_MEDIA} media`);
  return parsed.map((item: unknown) => {
    const fields = (item && typeof item === "object" ? item : {}) as Record<string, unknown>;
    const sid = [fields.Sid, fields.sid, fields.MediaSid].find((value) => typeof value === "string");
    const contentType = [fields.ContentType, fields.content_type, fields.contentType].find((value) => typeof value === "string");
    if (typeof sid !== "string" || !MEDIA_SID.test(sid)) throw malformed("onMessageAdded names media without a media SID");
    return { sid, contentType: typeof contentType === "string" && /^[\w.+-]+\/[\w.+-]+$/.test(contentType) ? contentType : "" };
  });
}

function isGone(error: unknown): boolean {
  if (!(error instanceof ProviderError)) return false;
  return error.options.httpStatus === 404 || error.options.code === "20404" || error.options.code === "50350";
}

function sameSet(listed: readonly string[], wanted: readonly string[]): boolean {
  const set = new Set(listed);
  return set.size === wanted.length && wanted.every((number) => set.has(number));
}

function single(params: Params, name: string): string {
  const value = params[name];
  return (Array.isArray(value) ? value[0] : value) ?? "";
}

const malformed = (message: string): ProviderError => new ProviderError(message, { temporary: false });
/** A refusal decided before Twilio is asked: nothing was sent. */
const refusal = (message: string): ProviderError => new ProviderError(message, { temporary: false });

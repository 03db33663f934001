// The last messages a user sent to each contact, with the start of their text: what a correction,
// a reaction or a retraction points at, and what a phone's `Liked "…"` quotes. Bounded per
// conversation and kept for days only, and only for transports that quote (docs/message-features.md).
import { createHash } from "node:crypto";
import type { Table } from "../../store/store.js";
import { LRUCache } from "lru-cache";
import { createKeyedQueue } from "../../transport/keyed-queue.js";

export interface SentText {
  /** The ids the user's client knows the message by: its stanza id, then its origin id (XEP-0359)
   *  when it has another. */
  ids: string[];
  /** The start of the text as the user wrote it (corrected, when corrected). */
  excerpt: string;
  thread?: string;
  at: number;
}

export interface SentTexts {
  /** A message the outbox took. */
  remember(user: string, peer: string, text: SentText): Promise<void>;
  /** The user's message to this contact known by `id`, if it is recent enough to be kept. */
  find(user: string, peer: string, id: string): Promise<SentText | undefined>;
  /** The user's messages to this contact, newest first. */
  recent(user: string, peer: string): Promise<SentText[]>;
  /** A correction replaced the text of the message known by `id`. */
  corrected(user: string, peer: string, id: string, text: string): Promise<void>;
  /** Keeps the user's reactions on a message, as set by their message `by`, and returns those it had
   *  before. The same message handled again (replayed after a crash) gets the same answer. */
  swapReactions(user: string, peer: string, id: string, emojis: string[], by: string): Promise<string[]>;
  forget(user: string): Promise<void>;
}

/** The user's reactions on one message, the message that set them, and the set before it. */
interface ReactionSet {
  by: string;
  emojis: string[];
  before: string[];
}

/** Enough to quote and to match a phone's quote; the rest of the text is not kept. */
export const EXCERPT_CHARS = 300;
const PER_CONVERSATION = 30;
const KEEP_MS = 14 * 24 * 3_600_000;
/** Conversations whose ids are held in memory; others are read from the store again when needed. */
const CACHED_CONVERSATIONS = 5_000;

/** A message in its slot: the conversation's slots are reused in turn, `seq` says which message holds one now. */
interface Slot extends SentText {
  seq: number;
}

/** What is held in memory of a conversation: its key, the next sequence number, and which of the
 *  kept messages each id names. */
interface Conversation {
  base: string;
  next: number;
  seqOf: Map<string, number>;
  idsOf: Map<number, string[]>;
}

export function createSentTexts(table: Table<unknown>): SentTexts {
  // The user stays readable in front of each key so that forget() finds everything of theirs.
  const hashed = (...parts: string[]): string => createHash("sha256").update(parts.join("\u0000")).digest("base64url").slice(0, 32);
  // Each message is a row of its own, in one of the conversation's 30 slots used in turn: a message
  // costs one small write, where a list of the last 30 was read and written whole every time.
  const slotKey = (conversation: Conversation, seq: number): string => `${conversation.base}|${seq % PER_CONVERSATION}`;
  const cache = new LRUCache<string, Conversation>({ max: CACHED_CONVERSATIONS });
  const fresh = (entry: { at: number } | undefined): boolean => entry !== undefined && entry.at > Date.now() - KEEP_MS;

  const slotKeys = (conversation: Conversation): string[] => Array.from({ length: PER_CONVERSATION }, (_, index) => `${conversation.base}|${index}`);
  const validSlots = (read: unknown[]): Slot[] =>
    (read as Array<Slot | undefined>).filter((slot): slot is Slot => fresh(slot) && Number.isInteger(slot?.seq) && Array.isArray(slot?.ids));
  // All 30 slots in one statement (one round trip on PostgreSQL).
  const readSlots = async (conversation: Conversation): Promise<Slot[]> => validSlots(await table.getMany(slotKeys(conversation)));
  const place = (conversation: Conversation, slot: Slot): void => {
    const gone = slot.seq - PER_CONVERSATION;
    // An id the message had may now name a newer copy of it (handled again): that one stays.
    for (const id of conversation.idsOf.get(gone) ?? []) if (conversation.seqOf.get(id) === gone) conversation.seqOf.delete(id);
    conversation.idsOf.delete(gone);
    conversation.idsOf.set(slot.seq, slot.ids);
    for (const id of slot.ids) conversation.seqOf.set(id, slot.seq);
    conversation.next = Math.max(conversation.next, slot.seq + 1);
  };
  const write = async (conversation: Conversation, slot: Slot): Promise<void> => {
    await table.set(slotKey(conversation, slot.seq), slot, KEEP_MS);
    place(conversation, slot);
  };

  const load = async (user: string, peer: string): Promise<Conversation> => {
    const name = `${user} ${peer}`;
    const cached = cache.get(name);
    if (cached) return cached;
    const conversation: Conversation = { base: `${user}|s|${hashed(peer)}`, next: 0, seqOf: new Map(), idsOf: new Map() };
    // Earlier versions kept a conversation as one list (newest first) under `|c|`: read in the same
    // statement as the slots, and taken over once.
    const listKey = `${user}|c|${hashed(peer)}`;
    const read = await table.getMany([...slotKeys(conversation), listKey]);
    const slots = validSlots(read.slice(0, PER_CONVERSATION)).sort((a, b) => a.seq - b.seq);
    for (const slot of slots) place(conversation, slot);
    const list = read[PER_CONVERSATION];
    if (slots.length === 0 && Array.isArray(list)) await adoptList(listKey, list as SentText[], conversation);
    cache.set(name, conversation);
    return conversation;
  };
  const adoptList = async (listKey: string, list: SentText[], conversation: Conversation): Promise<void> => {
    const entries = list.filter(fresh).slice(0, PER_CONVERSATION).reverse();
    for (const [seq, entry] of entries.entries()) await write(conversation, { ...entry, seq });
    await table.delete(listKey);
  };
  const slotOf = async (conversation: Conversation, id: string): Promise<Slot | undefined> => {
    const seq = conversation.seqOf.get(id);
    if (seq === undefined) return undefined;
    const slot = (await table.get(slotKey(conversation, seq))) as Slot | undefined;
    return fresh(slot) && slot?.seq === seq && slot.ids.includes(id) ? slot : undefined;
  };

  // One conversation's rows are read and written in turn (one instance holds a domain at a time), so
  // a read sees every write queued before it.
  const turns = createKeyedQueue();
  const inTurn = <T>(user: string, peer: string, work: (conversation: Conversation) => Promise<T>): Promise<T> =>
    turns.run(`${user} ${peer}`, async () => work(await load(user, peer)));

  return {
    remember(user, peer, text) {
      return inTurn(user, peer, async (conversation) => {
        // A message handled again (a client's resend, a replay) is kept once.
        if (text.ids.some((id) => conversation.seqOf.has(id))) return;
        await write(conversation, { ...text, excerpt: text.excerpt.slice(0, EXCERPT_CHARS), seq: conversation.next });
      });
    },
    find(user, peer, id) {
      return inTurn(user, peer, async (conversation) => {
        const slot = await slotOf(conversation, id);
        return slot && withoutSeq(slot);
      });
    },
    recent(user, peer) {
      return inTurn(user, peer, async (conversation) =>
        (await readSlots(conversation))
          .filter((slot) => slot.seq >= conversation.next - PER_CONVERSATION)
          .sort((a, b) => b.seq - a.seq)
          .map(withoutSeq),
      );
    },
    corrected(user, peer, id, text) {
      return inTurn(user, peer, async (conversation) => {
        const slot = await slotOf(conversation, id);
        if (slot) await write(conversation, { ...slot, excerpt: text.slice(0, EXCERPT_CHARS) });
      });
    },
    async swapReactions(user, peer, id, emojis, by) {
      const k = `${user}|r|${hashed(peer, id)}`;
      return turns.run(k, async () => {
        const stored = (await table.get(k)) as ReactionSet | undefined;
        if (stored?.by === by) return stored.before;
        const before = Array.isArray(stored?.emojis) ? stored.emojis : [];
        await table.set(k, { by, emojis, before } satisfies ReactionSet, KEEP_MS);
        return before;
      });
    },
    async forget(user) {
      for (const name of [...cache.keys()]) if (name.startsWith(`${user} `)) cache.delete(name);
      await table.deletePrefix(`${user}|`);
    },
  };
}

function withoutSeq({ seq: _seq, ...text }: Slot): SentText {
  return text;
}

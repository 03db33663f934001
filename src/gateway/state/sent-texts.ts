// The last messages a user sent to each contact, with the start of their text: what a correction,
// a reaction or a retraction points at, and what a phone's `Liked "…"` quotes. Bounded per
// conversation and kept for days only, and only for transports that quote (docs/message-features.md).
import { createHash } from "node:crypto";
import type { Table } from "../../store/store.js";
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

export function createSentTexts(table: Table<unknown>): SentTexts {
  // The user stays readable in front of each key so that forget() finds everything of theirs.
  const key = (kind: string, user: string, ...parts: string[]): string =>
    `${user}|${kind}|${createHash("sha256").update(parts.join("\u0000")).digest("base64url").slice(0, 32)}`;
  const list = async (user: string, peer: string): Promise<SentText[]> => {
    const value = await table.get(key("c", user, peer));
    return Array.isArray(value) ? (value as SentText[]).filter((entry) => entry.at > Date.now() - KEEP_MS) : [];
  };
  // One conversation's list is read and written in turn (one instance holds a domain at a time), so
  // a read sees every write queued before it.
  const turns = createKeyedQueue();
  const update = (user: string, peer: string, change: (entries: SentText[]) => SentText[] | undefined): Promise<void> =>
    turns.run(`${user} ${peer}`, async () => {
      const changed = change(await list(user, peer));
      if (changed) await table.set(key("c", user, peer), changed.slice(0, PER_CONVERSATION), KEEP_MS);
    });
  const read = (user: string, peer: string): Promise<SentText[]> => turns.run(`${user} ${peer}`, () => list(user, peer));

  return {
    remember(user, peer, text) {
      const entry = { ...text, excerpt: text.excerpt.slice(0, EXCERPT_CHARS) };
      // A message handled again (a client's resend, a replay) is kept once.
      return update(user, peer, (entries) => (entries.some((known) => known.ids.some((id) => entry.ids.includes(id))) ? undefined : [entry, ...entries]));
    },
    async find(user, peer, id) {
      return (await read(user, peer)).find((entry) => entry.ids.includes(id));
    },
    recent: read,
    corrected(user, peer, id, text) {
      return update(user, peer, (entries) => {
        const entry = entries.find((candidate) => candidate.ids.includes(id));
        if (!entry) return undefined;
        entry.excerpt = text.slice(0, EXCERPT_CHARS);
        return entries;
      });
    },
    async swapReactions(user, peer, id, emojis, by) {
      const k = key("r", user, peer, id);
      return turns.run(k, async () => {
        const stored = (await table.get(k)) as ReactionSet | undefined;
        if (stored?.by === by) return stored.before;
        const before = Array.isArray(stored?.emojis) ? stored.emojis : [];
        await table.set(k, { by, emojis, before } satisfies ReactionSet, KEEP_MS);
        return before;
      });
    },
    async forget(user) {
      await table.deletePrefix(`${user}|`);
    },
  };
}

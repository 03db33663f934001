// Keeps e-mail threads and chat threads together: which Message-IDs a reply must name in
// In-Reply-To/References, and which chat <thread> an incoming mail belongs to.
import { createHash } from "node:crypto";
import type { Table } from "../../src/transport/index.js";

export interface ThreadLink {
  messageId: string;
  /** The References of that mail (oldest first). */
  references: string[];
  subject?: string;
}

export interface ReplyHeaders {
  inReplyTo?: string;
  references: string[];
  /** The subject of the mail answered, for "Re: …". */
  subject?: string;
}

const TTL_MS = 180 * 24 * 3_600_000;
// References grow with every reply; mail clients themselves keep only the first and the last few.
const MAX_REFERENCES = 20;

export interface Threads {
  /** Headers for a user's mail to a peer: answers the mail named by inReplyTo (a source id), or the
   *  last mail between the user and that peer in the chat thread, or the last of their conversation.
   *  Never another sender's mail that merely shares the thread. */
  replyHeaders(user: string, peer: string, answer: { inReplyTo?: string; thread?: string }): Promise<ReplyHeaders>;
  /** After a mail left: remember it as the latest of its conversation and of the peer's chat thread. */
  sent(user: string, peer: string, link: ThreadLink, thread?: string): Promise<void>;
  /** After a mail arrived: the chat thread it belongs to, and `saved`, which resolves once the mail
   *  is remembered under its source id (callers may deliver meanwhile, and await it after). */
  received(user: string, peer: string, sourceId: string, link: ThreadLink): Promise<{ thread: string; saved: Promise<void> }>;
  /** The group conversation a mail belongs to, if one of the Message-IDs it answers (newest first)
   *  was seen in a group: its key. */
  groupOf(user: string, references: readonly string[]): Promise<string | undefined>;
  /** A mail of the group `key` arrived or left: its Message-ID now leads to the group, and the
   *  group's next reply answers it. */
  groupMail(user: string, key: string, link: ThreadLink): Promise<void>;
  /** Headers for the user's reply to all in the group `key`: In-Reply-To its latest mail. */
  groupReplyHeaders(user: string, key: string): Promise<ReplyHeaders>;
  /** Everything kept for a user (when they unregister). */
  forget(user: string): Promise<void>;
}

/** The key of a new group conversation: the thread's first Message-ID, as far as the mail knows it. */
export const groupKeyOf = (link: ThreadLink): string => link.references[0] ?? link.messageId;

export function createThreads(table: Table<ThreadLink | string>): Threads {
  // Keys hold Message-IDs, which can be long and hold anything; a hash keeps them tidy. The user
  // stays readable in front so that everything of one user can be found and removed.
  const key = (kind: string, user: string, ...parts: string[]): string =>
    `${user}|${createHash("sha256")
      .update([kind, ...parts].join("\u0000"))
      .digest("base64url")
      .slice(0, 32)}`;
  const link = async (k: string): Promise<ThreadLink | undefined> => {
    const value = await table.get(k);
    return typeof value === "object" ? value : undefined;
  };
  // The latest mail of a chat thread, per peer: a chat thread's name is shared by everyone who
  // answers the mail thread (its first Message-ID, or the user's name for it), so a row per thread
  // let a stranger's mail naming that Message-ID become what the user's next reply to the first
  // sender answered, with the stranger's subject and Message-ID in it.
  const threadKey = (user: string, peer: string, thread: string): string => key("peer-thread", user, peer, thread);
  // The row per thread the release before wrote (no peer in its key or its value). Its content is
  // never used, since whose mail it holds is unknown; only its existence still says that a mail
  // thread has its default chat thread (see sent()). It goes with its TTL, or with forget().
  const sharedThreadKey = (user: string, thread: string): string => key("thread", user, thread);
  const rootOf = (entry: ThreadLink): string => entry.references[0] ?? entry.messageId;
  /** The chat thread of a mail thread nobody named: its first Message-ID without the brackets. */
  const defaultThread = (root: string): string => root.replace(/^<|>$/g, "");
  const headersAfter = (previous: ThreadLink | undefined): ReplyHeaders => {
    if (!previous) return { references: [] };
    const references = [...previous.references, previous.messageId];
    return {
      inReplyTo: previous.messageId,
      ...(previous.subject && { subject: previous.subject }),
      references: references.length > MAX_REFERENCES ? [references[0]!, ...references.slice(-(MAX_REFERENCES - 1))] : references,
    };
  };

  return {
    async replyHeaders(user, peer, answer) {
      const previous =
        (answer.inReplyTo ? await link(key("mail", user, answer.inReplyTo)) : undefined) ??
        (answer.thread ? await link(threadKey(user, peer, answer.thread)) : undefined) ??
        (await link(key("conversation", user, peer)));
      return headersAfter(previous);
    },
    async groupOf(user, references) {
      // The mail it answers, then the thread's first: a mail of a group names one of them (a client
      // that trims References keeps both). Two reads at most for every mail with References.
      for (const messageId of new Set([references.at(-1), references[0]])) {
        if (messageId === undefined) continue;
        const found = await table.get(key("group-mail", user, messageId));
        if (typeof found === "string") return found;
      }
      return undefined;
    },
    async groupMail(user, group, entry) {
      await Promise.all([table.set(key("group-mail", user, entry.messageId), group, TTL_MS), table.set(key("group", user, group), entry, TTL_MS)]);
    },
    async groupReplyHeaders(user, group) {
      return headersAfter(await link(key("group", user, group)));
    },
    // The writes of one mail do not depend on each other; issuing them together saves round trips.
    async sent(user, peer, entry, thread) {
      const root = key("root", user, rootOf(entry));
      // A mail thread already has a chat thread when its root is named, or when a mail of it
      // arrived under the default name (received() does not write the root for that), from this
      // peer or, before this release, from anyone. One statement for the three.
      const named = async (): Promise<boolean> => {
        const fallback = defaultThread(rootOf(entry));
        const rows = await table.getMany([root, threadKey(user, peer, fallback), sharedThreadKey(user, fallback)]);
        return rows.some((row) => row !== undefined);
      };
      await Promise.all([
        table.set(key("mail", user, entry.messageId), entry, TTL_MS),
        table.set(key("conversation", user, peer), entry, TTL_MS),
        ...(thread
          ? [table.set(threadKey(user, peer, thread), entry, TTL_MS), named().then((known) => (known ? undefined : table.set(root, thread, TTL_MS)))]
          : []),
      ]);
    },
    async received(user, peer, sourceId, entry) {
      // The chat thread is the one the user's client used when the mail thread began here,
      // otherwise the thread's first Message-ID (the same for every mail of the thread).
      // The default name is not written under the root: the thread's own row says it is taken
      // (see sent()), which saves one write for every mail that starts a thread.
      const root = rootOf(entry);
      const known = await table.get(key("root", user, root));
      const thread = typeof known === "string" ? known : defaultThread(root);
      const saved = Promise.all([
        table.set(key("mail", user, sourceId), entry, TTL_MS),
        table.set(key("conversation", user, peer), entry, TTL_MS),
        table.set(threadKey(user, peer, thread), entry, TTL_MS),
      ]).then(() => undefined);
      saved.catch(() => undefined); // awaited by the caller; this only keeps an early failure from going unhandled
      return { thread, saved };
    },
    async forget(user) {
      await table.deletePrefix(`${user}|`);
    },
  };
}

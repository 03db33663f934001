// A text an earlier process handed to the provider without recording the answer (it was killed, or
// cut off from its store, in between). Before such a message is sent again, the provider's list of
// what the number sent the contact lately is searched for each of its texts. A listed text is this
// message's when its body and media count match, it was made after the user wrote the message (less
// a margin for clocks), and the gateway has no record of it as another message's.
import type { ProviderAccount, SmsProvider, ListedText } from "./provider.js";
import type { StatusTracker } from "./status.js";

/** The provider's clock and ours may differ, and its times are whole seconds. */
const CLOCK_MARGIN_MS = 5 * 60_000;
/** One conversation's texts leave one at a time, so the one in flight was its latest: a page of the
 *  latest is enough. */
const LISTED = 20;
/** A takeover leaves many messages of one conversation to check; one list serves them all, since
 *  what this process sends after reading it is on record as its own. Read again after this long. */
const LIST_KEPT_MS = 10_000;

/** The provider's id of `part` if an earlier process sent it; `taken`: ids already matched to parts. */
export type EarlierSend = (part: { body: string; media: number }, taken: readonly string[]) => Promise<string | undefined>;

export function earlierSends(provider: Pick<SmsProvider, "recentTexts">, status: Pick<StatusTracker, "partOf">) {
  const recentTexts = provider.recentTexts?.bind(provider);
  const lists = new Map<string, { readAt: number; texts: Promise<ListedText[]> }>();
  const listFor = (
    read: NonNullable<SmsProvider["recentTexts"]>,
    account: ProviderAccount,
    conversation: { from: string; to: string },
  ): Promise<ListedText[]> => {
    const now = Date.now();
    for (const [key, list] of lists) if (now - list.readAt > LIST_KEPT_MS) lists.delete(key);
    const key = `${account.id}\u0000${conversation.from}\u0000${conversation.to}`;
    const kept = lists.get(key);
    if (kept) return kept.texts;
    const texts = read(account, conversation, LISTED);
    lists.set(key, { readAt: now, texts });
    // A failed look-up is asked again at the message's next attempt.
    texts.catch(() => {
      if (lists.get(key)?.texts === texts) lists.delete(key);
    });
    return texts;
  };

  return (account: ProviderAccount, conversation: { from: string; to: string }, message: { id: string; sentAt: Date }): EarlierSend | undefined => {
    if (!recentTexts) return undefined;
    const since = message.sentAt.getTime() - CLOCK_MARGIN_MS;
    return async (part, taken) => {
      // Oldest first, so that the parts of one message match in the order they left.
      for (const text of [...(await listFor(recentTexts, account, conversation))].reverse()) {
        if (text.body !== part.body || text.media !== part.media || taken.includes(text.id) || !(text.createdAt.getTime() >= since)) continue;
        const known = await status.partOf(text.id);
        if (known && known.message !== message.id) continue;
        return text.id;
      }
      return undefined;
    };
  };
}

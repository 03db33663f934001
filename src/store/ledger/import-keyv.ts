// Release 0.1.0 kept its queues as keyv rows ("email.outbox:ID" → {value, expires}). The first
// ledger migration moves them into the ledger's tables, in the same transaction, so an upgraded
// gateway sends, delivers and de-duplicates exactly what the old one would have.

type LedgerTable = "outbox" | "inbox" | "seen";
type Row = Record<string, string | number>;

const QUEUE_KEY = /^([a-z0-9-]+)\.(outbox|inbox|inbox-seen|outbox-seen|sent):(.+)$/s;
const SEEN_KIND: Record<string, string> = { "inbox-seen": "in", "outbox-seen": "out", sent: "sent" };
const DEFAULT_TTL_MS = 90 * 24 * 3_600_000;

export function importKeyvQueues(
  source: { rows: Array<{ key: string; value: string }>; remove(key: string): void },
  insert: (table: LedgerTable, row: Row) => void,
  now = Date.now(),
): number {
  let moved = 0;
  for (const { key, value } of source.rows) {
    const match = QUEUE_KEY.exec(key);
    if (!match) continue;
    const [, transport = "", queue = "", id = ""] = match;
    let data: { value?: unknown; expires?: number | null };
    try {
      data = JSON.parse(value) as typeof data;
    } catch {
      continue; // not a row keyv wrote: leave it where it is
    }
    source.remove(key);
    if (typeof data.expires === "number" && data.expires <= now) continue;
    const expiresAt = typeof data.expires === "number" ? data.expires : now + DEFAULT_TTL_MS;
    const item = data.value as Record<string, unknown> & { message?: { user?: string; peer?: string }; user?: string; nextAttemptAt?: number };
    if (queue === "outbox") {
      insert("outbox", {
        transport,
        id,
        user_jid: item.message?.user ?? "",
        peer: item.message?.peer ?? "",
        due_at: item.nextAttemptAt ?? now,
        entry: JSON.stringify(item),
      });
    } else if (queue === "inbox") {
      insert("inbox", { transport, source_key: id, user_jid: item.user ?? "", stored: JSON.stringify(item), received_at: now });
    } else {
      const user = typeof item === "object" && item !== null && typeof item.user === "string" ? item.user : "";
      insert("seen", { transport, kind: SEEN_KIND[queue]!, seen_key: id, user_jid: user, value: JSON.stringify(data.value ?? null), expires_at: expiresAt });
    }
    moved += 1;
  }
  return moved;
}

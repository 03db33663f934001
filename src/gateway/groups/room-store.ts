// What a user's group chats keep: the room (subject, participants, who a reply goes to), its
// recent history in arrival order (what joins and MAM queries read), and the source ids already
// taken in. Keys start with the user, so that unregistering removes everything of theirs.
import { createHash, randomBytes } from "node:crypto";
import { gatewayError } from "../../errors.js";
import type { Table } from "../../store/store.js";
import type { Attachment, GroupParticipant } from "../../transport/contract.js";

export interface RoomParticipant extends GroupParticipant {
  /** Their nick in the room, fixed when they first appear (but for a name a later message gives
   *  to someone first seen as a bare address). */
  nick: string;
}

export interface Room {
  local: string;
  /** The transport's key for the conversation (InboundGroup.key). */
  key: string;
  subject: string;
  participants: RoomParticipant[];
  /** Who the latest message named: its sender and To (the To of the user's next message) and its Cc. */
  recipients: { to: string[]; cc: string[] };
  createdAt: number;
  /** Random, begins every archive id of the room: a room made again after an unregistration does
   *  not reuse ids that clients still hold. */
  epoch: string;
  /** Sequence numbers of the oldest entry kept and of the next one. */
  first: number;
  next: number;
  invitedAt?: number;
  joinedAt?: number;
  /** The subject before the user changed it from XMPP: a late "Re: <that>" does not bring it back. */
  formerSubject?: string;
  /** A subject the user set that no message has carried yet: the next one leaves with it. */
  subjectToSend?: string;
  /** The user left the conversation (destroyed the room): its mail stays in the mailbox. */
  leftAt?: number;
  /** Made by joining a JID of the user's choosing (named-room.ts), not by the transport. */
  named?: boolean;
}

export interface HistoryEntry {
  /** Archive id (XEP-0359 stanza-id, XEP-0313 result id). */
  id: string;
  at: number;
  nick: string;
  /** The sender's legacy address; none when the user wrote it. */
  address?: string;
  body: string;
  subject?: string;
  attachments?: Attachment[];
  /** When it was written, if earlier than it arrived (the mail's Date). */
  sentAt?: number;
  /** The user's own stanza id and origin id, echoed back so their client matches the echo. */
  stanzaId?: string;
  originId?: string;
}

export interface HistoryPage {
  entries: HistoryEntry[];
  /** Every entry between the query's bounds is in the page (in the direction it was asked for). */
  complete: boolean;
  count: number;
}

export interface PageQuery {
  max: number;
  after?: string;
  /** An archive id, or "" for the last page. */
  before?: string;
  start?: number;
  end?: number;
  /** Only the entries it accepts (XEP-0313's `with`): paging counts and bounds over those alone. */
  match?: (entry: HistoryEntry) => boolean;
}

export interface RoomTables {
  rooms: Table<Room>;
  history: Table<HistoryEntry>;
  sources: Table<string>;
}

export interface RoomStore {
  get(user: string, local: string): Promise<Room | undefined>;
  /** The room, unless the user left it. */
  active(user: string, local: string): Promise<Room | undefined>;
  /** The user leaves the conversation for good: its history goes, the room stays as a mark that
   *  the thread's later mail is not wanted here. */
  leave(user: string, room: Room): Promise<void>;
  save(user: string, room: Room): Promise<void>;
  /** Adds an entry at the end of the room's history (dropping the oldest beyond the limit) and
   *  saves the room; callers serialise calls per room. */
  append(user: string, room: Room, entry: Omit<HistoryEntry, "id">): Promise<HistoryEntry>;
  /** The last `max` entries (fewer if the room has fewer). */
  recent(user: string, room: Room, max: number): Promise<HistoryEntry[]>;
  page(user: string, room: Room, query: PageQuery): Promise<HistoryPage>;
  /** The room a source id went to, if it was taken in. */
  sourceRoom(user: string, sourceId: string): Promise<string | undefined>;
  markSource(user: string, sourceId: string, local: string): Promise<void>;
  forget(user: string): Promise<number>;
}

const SEQ_DIGITS = 12;
const EPOCH_CHARS = 6;
/** Source ids are remembered as long as the transports' own de-duplication. */
const SOURCE_TTL_MS = 90 * 24 * 3_600_000;

export function newEpoch(): string {
  return randomBytes(8).toString("base64url").replace(/[-_]/g, "x").slice(0, EPOCH_CHARS);
}

export function createRoomStore(tables: RoomTables, limit: () => number): RoomStore {
  const { rooms, history, sources } = tables;
  const roomKey = (user: string, local: string): string => `${user}|${local}`;
  const entryKey = (user: string, local: string, seq: number): string => `${user}|${local}|${String(seq).padStart(SEQ_DIGITS, "0")}`;
  const sourceKey = (user: string, sourceId: string): string => `${user}|${createHash("sha256").update(sourceId).digest("base64url").slice(0, 32)}`;
  const idOf = (room: Room, seq: number): string => `${room.epoch}${seq.toString(36)}`;
  /** The sequence number an archive id of this room stands for, or undefined. */
  const seqOf = (room: Room, id: string): number | undefined => {
    if (!id.startsWith(room.epoch) || id.length > EPOCH_CHARS + 11) return undefined;
    const seq = Number.parseInt(id.slice(EPOCH_CHARS), 36);
    return Number.isSafeInteger(seq) && idOf(room, seq) === id ? seq : undefined;
  };
  const read = async (user: string, room: Room, from: number, to: number): Promise<HistoryEntry[]> => {
    const found = await Promise.all(Array.from({ length: Math.max(0, to - from) }, (_, i) => history.get(entryKey(user, room.local, from + i))));
    return found.filter((entry): entry is HistoryEntry => entry !== undefined);
  };
  /** The first sequence number in [lo, hi) whose entry arrived at or after `at` (entries arrive in order). */
  const firstAtOrAfter = async (user: string, room: Room, lo: number, hi: number, at: number): Promise<number> => {
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const entry = await history.get(entryKey(user, room.local, mid));
      if (entry && entry.at < at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  return {
    get: (user, local) => rooms.get(roomKey(user, local)),
    async active(user, local) {
      const room = await rooms.get(roomKey(user, local));
      return room?.leftAt === undefined ? room : undefined;
    },
    async leave(user, room) {
      await history.deletePrefix(`${user}|${room.local}|`);
      await rooms.set(roomKey(user, room.local), { ...room, participants: [], recipients: { to: [], cc: [] }, leftAt: Date.now() });
    },
    save: (user, room) => rooms.set(roomKey(user, room.local), room),
    async append(user, room, partial) {
      // A unique insert claims the sequence number, should another instance append to the room too.
      let seq = room.next;
      for (;;) {
        const entry: HistoryEntry = { ...partial, id: idOf(room, seq) };
        if (await history.insert(entryKey(user, room.local, seq), entry)) {
          room.next = seq + 1;
          const keep = Math.max(1, limit());
          const drop: number[] = [];
          while (room.next - room.first > keep) drop.push(room.first++);
          await Promise.all([...drop.map((old) => history.delete(entryKey(user, room.local, old))), rooms.set(roomKey(user, room.local), room)]);
          return entry;
        }
        seq += 1;
      }
    },
    recent(user, room, max) {
      return read(user, room, Math.max(room.first, room.next - max), room.next);
    },
    async page(user, room, query) {
      let lo = room.first;
      let hi = room.next;
      if (query.start !== undefined) lo = await firstAtOrAfter(user, room, lo, hi, query.start);
      if (query.end !== undefined) hi = await firstAtOrAfter(user, room, lo, hi, query.end + 1);
      for (const [bound, id] of [
        ["after", query.after],
        ["before", query.before],
      ] as const) {
        if (!id) continue;
        const seq = seqOf(room, id);
        if (seq === undefined) throw gatewayError("item-not-found", `This group chat has no message with the id "${id.slice(0, 64)}".`);
        if (bound === "after") lo = Math.max(lo, seq + 1);
        else hi = Math.min(hi, seq);
      }
      const backwards = query.before !== undefined;
      if (query.match) {
        // A filter reads the whole range (at most the room's bounded history), in reads of 100.
        const matching: HistoryEntry[] = [];
        for (let at = lo; at < hi; at += 100) matching.push(...(await read(user, room, at, Math.min(hi, at + 100))).filter(query.match));
        const entries = backwards ? matching.slice(Math.max(0, matching.length - query.max)) : matching.slice(0, query.max);
        return {
          entries,
          complete: entries.length === matching.length || (backwards ? entries[0] === matching[0] : entries.at(-1) === matching.at(-1)),
          count: matching.length,
        };
      }
      const count = Math.max(0, hi - lo);
      const from = backwards ? Math.max(lo, hi - query.max) : lo;
      const to = backwards ? hi : Math.min(hi, lo + query.max);
      const entries = await read(user, room, from, to);
      return { entries, complete: backwards ? from <= lo : to >= hi, count };
    },
    sourceRoom: (user, sourceId) => sources.get(sourceKey(user, sourceId)),
    markSource: (user, sourceId, local) => sources.set(sourceKey(user, sourceId), local, SOURCE_TTL_MS),
    async forget(user) {
      const counts = await Promise.all([rooms.deletePrefix(`${user}|`), history.deletePrefix(`${user}|`), sources.deletePrefix(`${user}|`)]);
      return counts.reduce((sum, n) => sum + n, 0);
    },
  };
}

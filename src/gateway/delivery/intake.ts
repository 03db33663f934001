// Where a stanza from the XMPP server enters: a message with content is recorded first (the
// ledger's intake, or the journal file) so a crash cannot lose what the server handed over, then
// handled in its sender's lane (a message's checks alongside the sender's earlier messages, its
// insert after theirs: see sender-lanes.ts; different senders in parallel), and marked done.
import type { Logger } from "pino";
import type { Element } from "../../xmpp/xml.js";
import { carriesContent } from "../features/message-features.js";
import type { IntakeJournal, IntakeMark } from "./intake-journal.js";
import { createSenderLanes, type Turn } from "./sender-lanes.js";

export interface Intake {
  /** Records (when it carries content) and handles a stanza from the server. */
  take(stanza: Element): void;
  /** The turn a message holds in its sender's lane, for the handler that inserts it. */
  turnOf(stanza: Element): Turn | undefined;
  /** Handles again what `recorded` holds from an earlier run, oldest first; returns how many. */
  replay(recorded: IntakeJournal | undefined): Promise<number>;
  /** From now on stanzas are only recorded, not handled (nor marked done): this instance lost its
   *  hold on the domain, and the next run hands them over. */
  quiesce(): void;
  idle(): Promise<void>;
}

export function createIntake(options: { journal: IntakeJournal | undefined; dispatch: (stanza: Element) => Promise<void>; log: Logger }): Intake {
  const { journal, dispatch } = options;
  const lanes = createSenderLanes();
  const turns = new WeakMap<Element, Turn>();
  let quiescing = false;
  const recordable = (stanza: Element): boolean => stanza.name === "message" && stanza.attrs.type !== "error" && carriesContent(stanza);

  const handle = (stanza: Element, recordedIn: IntakeJournal | undefined, mark: IntakeMark | undefined): void => {
    const isMessage = stanza.name === "message" && stanza.attrs.type !== "error";
    const sender = stanza.attrs.from?.split("/")[0] ?? "";
    // A message to the service itself (a chat command) may change what later messages see.
    const running =
      isMessage && stanza.attrs.to?.includes("@")
        ? lanes.message(sender, (turn) => {
            turns.set(stanza, turn);
            return dispatch(stanza);
          })
        : lanes.other(sender, () => dispatch(stanza));
    void running.finally(() => {
      // A stanza still being handled when this instance began to quiesce (its store went away) may
      // have failed with an error reply that never left: it stays recorded, and the next run
      // handles it again (its stanza id keeps it from being sent twice).
      if (mark !== undefined && !quiescing) recordedIn!.done(mark);
    });
  };

  return {
    take(stanza) {
      const mark = journal && recordable(stanza) ? journal.write(stanza) : undefined;
      if (quiescing) return; // kept, not handled: the next run of this instance hands it over
      handle(stanza, journal, mark);
    },
    turnOf: (stanza) => turns.get(stanza),
    async replay(recorded) {
      const left = (await recorded?.unfinished()) ?? [];
      for (const { stanza, mark } of left) handle(stanza, recorded, mark);
      return left.length;
    },
    quiesce() {
      quiescing = true;
    },
    idle: () => lanes.idle(),
  };
}

// The intake on the ledger, where the ledger writes at the call (SQLite): a message the XMPP server
// handed over is inserted before the first await and committed with the event-loop turn that read
// it, so a killed gateway finds it at the next start. One insert and one delete in the turn's
// transaction replace the journal file's two appends.
import { parse } from "ltx";
import type { Logger } from "pino";
import type { TransportLedger } from "../../store/ledger/ledger.js";
import type { Element } from "../../xmpp/xml.js";
import type { IntakeJournal } from "./intake-journal.js";

/** The ledger's intake, or undefined when its engine cannot write before the first await. */
export function openLedgerIntake(ledger: TransportLedger, log: Logger): IntakeJournal | undefined {
  const { intakeAdd, intakeDone, intakePending } = ledger;
  if (!intakeAdd || !intakeDone || !intakePending) return undefined;
  // Marks sort in arrival order, across runs too: this run's start, then its count.
  const run = Date.now().toString(36).padStart(9, "0");
  let sequence = 0;
  let failing = false;
  const failed = (error: unknown): void => {
    if (!failing) log.error({ err: error }, "cannot record incoming messages in the ledger");
    failing = true;
  };
  return {
    write(stanza) {
      sequence += 1;
      const mark = `${run}.${sequence.toString(36).padStart(8, "0")}`;
      // The insert runs now; the promise only says when its turn's commit is on disk. A failing
      // store does not stop the message: handled without, it is refused when the outbox fails too.
      intakeAdd(mark, stanza.attrs.from?.split("/")[0] ?? "", stanza.toString()).then(() => {
        if (failing) log.info("incoming messages are recorded in the ledger again");
        failing = false;
      }, failed);
      return mark;
    },
    done(mark) {
      intakeDone(String(mark)).catch(failed);
    },
    async unfinished() {
      const rows = await intakePending();
      const stanzas: Array<{ stanza: Element; mark: string }> = [];
      for (const row of rows) {
        try {
          stanzas.push({ stanza: parse(row.stanza) as unknown as Element, mark: row.mark });
        } catch (error) {
          log.warn({ mark: row.mark, err: error }, "dropped an unreadable intake row");
          intakeDone(row.mark).catch(failed);
        }
      }
      return stanzas;
    },
  };
}

// What records a message between the XMPP server (or the transport) and the ledger: a ledger that
// writes at the call (SQLite) records incoming stanzas itself, and what the server confirmed is in
// its transaction at once, so the journal files are only for the other stores (PostgreSQL).
import { existsSync } from "node:fs";
import type { Logger } from "pino";
import type { TransportLedger } from "../../store/ledger/ledger.js";
import { openDeliveryJournal, type DeliveryJournal } from "./delivery-journal.js";
import { openIntakeJournal, type IntakeJournal } from "./intake-journal.js";
import { openLedgerIntake } from "./intake-ledger.js";

export interface Records {
  /** Records each incoming message with content before the first await. */
  intake: IntakeJournal | undefined;
  /** The ledger itself records what the server handed over, at the call: no journal to hand over. */
  ledgerRecordsIntake: boolean;
  /** Journal file an earlier release left beside a SQLite store: what it holds is handled once. */
  leftIntake: IntakeJournal | undefined;
  /** Where the inbox notes what the server confirmed, when the ledger cannot in its transaction. */
  delivered: DeliveryJournal | undefined;
}

export function openRecords(ledger: TransportLedger, journalFile: string | undefined, log: Logger): Records {
  const ledgerIntake = openLedgerIntake(ledger, log);
  const deliveredFile = journalFile?.replace(/intake\.journal$/, "delivered.journal");
  if (ledgerIntake) {
    const leftDelivered = deliveredFile && existsSync(deliveredFile) ? openDeliveryJournal(deliveredFile, log) : undefined;
    return {
      intake: ledgerIntake,
      ledgerRecordsIntake: true,
      leftIntake: journalFile && existsSync(journalFile) ? openIntakeJournal(journalFile, log) : undefined,
      delivered: leftDelivered && { ...leftDelivered, confirmed: () => undefined },
    };
  }
  return {
    intake: journalFile ? openIntakeJournal(journalFile, log) : undefined,
    ledgerRecordsIntake: false,
    leftIntake: undefined,
    delivered: deliveredFile ? openDeliveryJournal(deliveredFile, log) : undefined,
  };
}

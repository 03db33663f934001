// The intake on the embedded SQLite file: a stanza the XMPP server handed over is inserted at the
// call (better-sqlite3 is synchronous), inside the current event-loop turn's transaction, so it is
// committed at the end of the turn that read it, whatever the handler awaits afterwards.
import type { TransportLedger } from "../ledger/ledger.js";
import type { StatementCache } from "./database.js";

export function sqliteIntake(sql: StatementCache, transport: string): Required<Pick<TransportLedger, "intakeAdd" | "intakeDone" | "intakePending">> {
  return {
    intakeAdd(mark, user, stanza) {
      return sql.write(
        () =>
          void sql
            .statement("INSERT INTO intake (transport, mark, user_jid, stanza) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")
            .run(transport, mark, user, stanza),
      );
    },
    intakeDone(mark) {
      // Lost in a crash, the row only makes the next start hand the stanza on again, and a message
      // already in the outbox is recognised by its id: no commit of its own is needed.
      return sql.writeLater(() => void sql.statement("DELETE FROM intake WHERE transport = ? AND mark = ?").run(transport, mark));
    },
    async intakePending() {
      return sql.statement("SELECT mark, stanza FROM intake WHERE transport = ? ORDER BY mark").all(transport) as Array<{ mark: string; stanza: string }>;
    },
  };
}

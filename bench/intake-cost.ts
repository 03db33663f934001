// What recording one incoming message costs (record it, then mark it done), each way the gateway
// can: the intake journal file (two appends) and the ledger's intake table on SQLite (an insert and
// a delete, in the commits of the event-loop turns they fall in). CPU time of this process per
// message; 20 messages per turn, as a burst from the XMPP server arrives.
//   npx tsc -p . --outDir .build-perf && node .build-perf/bench/intake-cost.js
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { openIntakeJournal, type IntakeJournal } from "../src/gateway/delivery/intake-journal.js";
import { openLedgerIntake } from "../src/gateway/delivery/intake-ledger.js";
import { openStore } from "../src/store/store.js";
import { xml } from "../src/xmpp/xml.js";

const MESSAGES = 20_000;
const PER_TURN = 20;
const log = pino({ level: "silent" });
const turnEnds = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function measure(name: string, intake: IntakeJournal): Promise<void> {
  const started = process.cpuUsage();
  const wall = process.hrtime.bigint();
  for (let sent = 0; sent < MESSAGES; ) {
    const marks = [];
    for (let i = 0; i < PER_TURN; i += 1, sent += 1) {
      const stanza = xml(
        "message",
        { from: "juliet@example.test/phone", to: "+15551234567@sms.example.test", type: "chat", id: `m-${sent}` },
        xml("body", {}, `message ${sent} ${"x".repeat(120)}`),
      );
      marks.push(intake.write(stanza)!);
    }
    await turnEnds(); // the messages are handled in a later turn
    for (const mark of marks) intake.done(mark);
    await turnEnds();
  }
  const cpu = process.cpuUsage(started);
  const ms = Number(process.hrtime.bigint() - wall) / 1e6;
  console.log(
    `${name}: ${((cpu.user + cpu.system) / MESSAGES).toFixed(1)} µs CPU, ${((ms * 1000) / MESSAGES).toFixed(1)} µs wall per message (${MESSAGES} messages, ${PER_TURN} per turn)`,
  );
}

const dir = mkdtempSync(join(tmpdir(), "switchboard-intake-cost-"));
try {
  await measure("journal file (two appends)", openIntakeJournal(join(dir, "test.intake.journal"), log));
  const store = await openStore(`sqlite://${join(dir, "store.sqlite")}`, log);
  await measure("ledger intake on SQLite (insert + delete)", openLedgerIntake(store.ledger.forTransport("test"), log)!);
  await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

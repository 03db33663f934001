// What the XMPP server handed over is kept until it is handled, across as many failed starts and
// crashes as it takes: in the ledger's intake table on SQLite (written before the first await), in
// the intake journal file where the store cannot do that (PostgreSQL).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { openIntakeJournal, type IntakeJournal } from "../../src/gateway/delivery/intake-journal.js";
import { openLedgerIntake } from "../../src/gateway/delivery/intake-ledger.js";
import { openStore, type Store } from "../../src/store/store.js";
import { xml } from "../../src/xmpp/xml.js";

const log = pino({ level: "silent" });
const message = (id: string, body: string) => xml("message", { id, from: "juliet@example.test/phone", to: "romeo@sms.example.test" }, xml("body", {}, body));
const ids = async (journal: IntakeJournal): Promise<string[]> => (await journal.unfinished()).map(({ stanza }) => stanza.attrs.id ?? "");
const turnEnds = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function inTempDir(work: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), "switchboard-intake-"));
    try {
      await work(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  "journal file: stanzas left unfinished survive a start that fails before they are handled, and go once handled",
  inTempDir(async (dir) => {
    const file = join(dir, "test.intake.journal");
    const first = openIntakeJournal(file, log);
    first.write(message("a", "one"));
    const done = first.write(message("b", "two"))!;
    first.write(message("c", "three"));
    first.done(done);
    // Killed here. The next start opens the journal, then fails before replaying it.
    assert.deepEqual(await ids(openIntakeJournal(file, log)), ["a", "c"]);
    // And the start after that still finds both; it handles one of them, then is killed again.
    const second = openIntakeJournal(file, log);
    const left = await second.unfinished();
    assert.deepEqual(
      left.map(({ stanza }) => stanza.attrs.id),
      ["a", "c"],
    );
    second.done(left[0]!.mark);
    assert.deepEqual(await ids(openIntakeJournal(file, log)), ["c"]);
  }),
);

test(
  "ledger intake on SQLite: unfinished stanzas survive failed starts, in arrival order, and go once handled",
  inTempDir(async (dir) => {
    const uri = `sqlite://${join(dir, "store.sqlite")}`;
    const open = async (): Promise<{ store: Store; intake: IntakeJournal }> => {
      const store = await openStore(uri, log);
      return { store, intake: openLedgerIntake(store.ledger.forTransport("test"), log)! };
    };
    let { store, intake } = await open();
    intake.write(message("a", "one"));
    const done = intake.write(message("b", "two"))!;
    intake.write(message("c", "three"));
    intake.done(done);
    await turnEnds();
    await store.close();

    ({ store, intake } = await open());
    assert.deepEqual(await ids(intake), ["a", "c"]);
    await store.close();

    ({ store, intake } = await open());
    const left = await intake.unfinished();
    intake.write(message("d", "four"));
    intake.done(left[0]!.mark);
    await turnEnds();
    await store.close();

    ({ store, intake } = await open());
    assert.deepEqual(await ids(intake), ["c", "d"], "the stanza taken in by the later run comes after the earlier run's");
    await store.close();
  }),
);

test(
  "ledger intake on SQLite: a stanza recorded before the first await survives kill -9 of the process",
  inTempDir(async (dir) => {
    const file = join(dir, "store.sqlite");
    const here = new URL(".", import.meta.url).pathname;
    // The child records a stanza exactly as the gateway does when it reads one (no await in between),
    // lets the event-loop turn end, and is killed at once: nothing closes the store.
    const child = `
    import { pino } from "pino";
    import { openStore } from "${join(here, "../../src/store/store.js")}";
    import { openLedgerIntake } from "${join(here, "../../src/gateway/delivery/intake-ledger.js")}";
    import { xml } from "${join(here, "../../src/xmpp/xml.js")}";
    const store = await openStore("sqlite://${file}", pino({ level: "silent" }));
    const intake = openLedgerIntake(store.ledger.forTransport("test"), pino({ level: "silent" }));
    intake.write(xml("message", { id: "killed", from: "juliet@example.test/phone", to: "romeo@sms.example.test" }, xml("body", {}, "kept")));
    setImmediate(() => process.kill(process.pid, "SIGKILL"));
    setTimeout(() => undefined, 10_000);
  `;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", child], { cwd: process.cwd(), encoding: "utf8", timeout: 20_000 });
    assert.equal(result.signal, "SIGKILL", result.stderr);
    const store = await openStore(`sqlite://${file}`, log);
    try {
      const left = await openLedgerIntake(store.ledger.forTransport("test"), log)!.unfinished();
      assert.deepEqual(
        left.map(({ stanza }) => [stanza.attrs.id, stanza.getChildText("body")]),
        [["killed", "kept"]],
      );
    } finally {
      await store.close();
    }
  }),
);

// The intake journal keeps what the XMPP server handed over until it is handled, across as many
// failed starts and crashes as it takes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { openIntakeJournal } from "../../src/gateway/intake-journal.js";
import { xml } from "../../src/xmpp/xml.js";

const log = pino({ level: "silent" });

test("stanzas left unfinished survive a start that fails before they are handled, and go once handled", () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-journal-"));
  try {
    const file = join(dir, "test.intake.journal");
    const first = openIntakeJournal(file, log);
    first.write(xml("message", { id: "a" }, xml("body", {}, "one")));
    const done = first.write(xml("message", { id: "b" }, xml("body", {}, "two")))!;
    first.write(xml("message", { id: "c" }, xml("body", {}, "three")));
    first.done(done);
    // Killed here. The next start opens the journal, then fails before replaying it.
    const failedStart = openIntakeJournal(file, log);
    assert.deepEqual(failedStart.unfinished().map(({ stanza }) => stanza.attrs.id), ["a", "c"]);
    // And the start after that still finds both; it handles one of them, then is killed again.
    const second = openIntakeJournal(file, log);
    const left = second.unfinished();
    assert.deepEqual(left.map(({ stanza }) => stanza.attrs.id), ["a", "c"]);
    second.done(left[0]!.mark);
    const third = openIntakeJournal(file, log);
    assert.deepEqual(third.unfinished().map(({ stanza }) => stanza.attrs.id), ["c"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

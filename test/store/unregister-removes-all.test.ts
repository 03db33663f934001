// "Unregister removes everything", for a large account: 5,000 thread records, outgoing mail still
// waiting, delivered ids. Afterwards no row of any table names the user; others' rows are kept.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import pg from "pg";
import { personalAccount, registerEmail, startWorld, chat, EMAIL, type World } from "../email/world.js";
import { xml, type TestClient } from "../support/xmpp-client.js";
import { until } from "../support/wait.js";

const JULIET = "juliet@example.test";
let world: World;
let juliet: TestClient;

before(async () => {
  world = await startWorld({ mailboxes: ["juliet@mail.example.test", "romeo@mail.example.test"] });
  juliet = await world.h.login("juliet");
  const reply = await registerEmail(juliet, personalAccount(world, "juliet@mail.example.test"));
  assert.equal(reply.attrs.type, "result", reply.toString());
});
after(async () => {
  await world?.stop();
});

/** Rows that belong to `user`: keyv keys that name them, and ledger rows filed under them. */
async function rowsOf(uri: string, user: string): Promise<{ keyv: number; ledger: number }> {
  const like = `%${user}%`;
  const ledger =
    "SELECT (SELECT COUNT(*) FROM outbox WHERE user_jid = $1) + (SELECT COUNT(*) FROM inbox WHERE user_jid = $1) + (SELECT COUNT(*) FROM seen WHERE user_jid = $1) AS n";
  if (/^sqlite:/i.test(uri)) {
    const db = new Database(uri.replace(/^sqlite:(\/\/)?/i, ""), { readonly: true });
    try {
      const keyv = (db.prepare("SELECT COUNT(*) AS n FROM keyv WHERE key LIKE ?").get(like) as { n: number }).n;
      return { keyv, ledger: (db.prepare(ledger.replaceAll("$1", "?")).get(user, user, user) as { n: number }).n };
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    const keyv = Number((await client.query<{ n: string }>("SELECT COUNT(*) AS n FROM keyv WHERE key LIKE $1", [like])).rows[0]!.n);
    return { keyv, ledger: Number((await client.query<{ n: string }>(ledger, [user])).rows[0]!.n) };
  } finally {
    await client.end();
  }
}

test("after a user with 5,000 thread records and waiting mail unregisters, no table holds a row of theirs", async () => {
  const store = world.h.gateway.store;
  const threads = store.table<unknown>("email.t.threads");
  // As many mails would leave them (the key form threads.ts writes): theirs, and someone else's.
  for (let i = 0; i < 5_000; i += 1) await threads.set(`${JULIET}|thread-${i}`, { messageId: `<m${i}@mail.example.test>`, references: [] });
  for (let i = 0; i < 100; i += 1) await threads.set(`romeo@example.test|thread-${i}`, { messageId: `<r${i}@mail.example.test>`, references: [] });

  // Mail sent while the SMTP server is away waits in the outbox; one sent earlier is remembered.
  await juliet.send(chat("romeo@mail.example.test", "before", { id: "sent-before" }));
  await world.relay.waitForMail(1);
  await world.relay.stop();
  for (let i = 0; i < 20; i += 1) await juliet.send(chat("romeo@mail.example.test", `waiting ${i}`, { id: `waiting-${i}` }));
  await until(() => false, 1_000);

  const uri = world.h.config.store.uri;
  const before = await rowsOf(uri, JULIET);
  assert.ok(before.keyv >= 5_000 && before.ledger >= 20, JSON.stringify(before));

  const reply = await juliet.iq(xml("iq", { type: "set", to: EMAIL }, xml("query", { xmlns: "jabber:iq:register" }, xml("remove"))), 30_000);
  assert.equal(reply.attrs.type, "result", reply.toString());
  assert.deepEqual(await rowsOf(uri, JULIET), { keyv: 0, ledger: 0 });
  let kept = 0;
  for await (const [key] of threads.entries()) if (key.startsWith("romeo@example.test|")) kept += 1;
  assert.equal(kept, 100, "another user's rows are kept");
  await world.relay.start();
});

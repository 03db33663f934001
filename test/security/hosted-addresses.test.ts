// Hosted addresses: the catch-all's own address and the operator's role addresses are nobody's,
// the catch-all never counts as a recipient, one address goes to exactly one user however many ask
// at once, and users never see the catch-all's login when its mailbox fails.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createLogger } from "../../src/log.js";
import { openStore } from "../../src/store/store.js";
import type { BareJid } from "../../src/xmpp/jid.js";
import { createHostedDirectory } from "../../transports/email/hosted.js";
import { errorCondition, errorText, xml, type TestClient } from "../support/xmpp-client.js";
import { scratchStoreUri } from "../support/postgres.js";
import { EMAIL, emailJid, eventually, MAIL_PASSWORD, registerEmail, smtpSend, startWorld, waitForChat, type World } from "../email/world.js";

const MAIL_DOMAIN = "mail.example.test";
const CATCH_ALL = `catchall@${MAIL_DOMAIN}`;
const TYBALT = "tybalt@capulet.test";

let world: World;
let juliet: TestClient;
let romeo: TestClient;

before(async () => {
  world = await startWorld({
    mailboxes: [CATCH_ALL, TYBALT],
    catchAll: { [MAIL_DOMAIN]: CATCH_ALL },
    email: ({ imap, smtp }) => ({
      mode: "hosted",
      hosted: {
        domain: MAIL_DOMAIN,
        imap: { host: "127.0.0.1", port: imap, security: "none", user: CATCH_ALL, password: MAIL_PASSWORD },
        smtp: { host: "127.0.0.1", port: smtp, security: "none", user: "relay-login", password: "relay-password" },
      },
    }),
  });
  juliet = await world.h.login("juliet");
  romeo = await world.h.login("romeo");
});
after(async () => {
  await world?.stop();
});

test("the catch-all's own address and the operator's logins cannot be registered", async () => {
  // Each attempt counts against the per-user limit (5 in 10 minutes): a few through XMPP here,
  // the whole list against the directory below.
  for (const address of ["catchall", "CatchAll@mail.example.test", "relay-login"]) {
    const reply = await registerEmail(romeo, { address });
    assert.equal(reply.attrs.type, "error", `${address} was accepted`);
    assert.equal(errorCondition(reply), "not-acceptable", address);
    assert.match(errorText(reply), /is kept for the domain's operator/, address);
  }
  assert.equal((await registerEmail(romeo, { address: "romeo" })).attrs.type, "result");
});

test("the role addresses of RFC 2142 and the system's own are kept for the operator", async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-reserved-"));
  const store = await openStore(await scratchStoreUri(dir), createLogger("silent"));
  try {
    const directory = createHostedDirectory(store.table<string>("email.t.hosted-addresses"), { domain: MAIL_DOMAIN, logins: [CATCH_ALL, "relay-login"] });
    const roles = [
      "postmaster",
      "abuse",
      "hostmaster",
      "webmaster",
      "mailer-daemon",
      "noc",
      "security",
      "info",
      "marketing",
      "sales",
      "support",
      "uucp",
      "news",
      "usenet",
      "www",
      "ftp",
      "root",
      "noreply",
      "no-reply",
      "admin",
    ];
    for (const role of [...roles, "catchall", "relay-login", `Postmaster@${MAIL_DOMAIN}`]) {
      await assert.rejects(directory.claim("mallory@example.test" as BareJid, role), /is kept for the domain's operator/, role);
    }
    assert.equal(await directory.claim("mallory@example.test" as BareJid, "mallory"), `mallory@${MAIL_DOMAIN}`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the catch-all's address is never a recipient, even if someone holds it from before", async () => {
  // As if Romeo had claimed the catch-all's address before it was reserved.
  await world.h.gateway.store.table<string>("email.t.hosted-addresses").set(CATCH_ALL, "romeo@example.test");
  assert.equal((await registerEmail(juliet, { address: "juliet" })).attrs.type, "result");
  await smtpSend(
    world,
    TYBALT,
    [`juliet@${MAIL_DOMAIN}`],
    `From: ${TYBALT}\nTo: juliet@${MAIL_DOMAIN}\nSubject: private\nMessage-ID: <tybalt-private@capulet.test>\n\nFor Juliet alone\n`,
  );
  await waitForChat(juliet, TYBALT, (body) => body === "For Juliet alone");
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(romeo.messages(emailJid(TYBALT)).filter((stanza) => stanza.getChildText("body") === "For Juliet alone").length, 0, "Romeo read Juliet's mail");
});

test("twenty users claiming one address at once, through two store connections: exactly one gets it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-claims-"));
  const log = createLogger("silent");
  try {
    // On PostgreSQL two connections stand for two gateway instances sharing the database. An SQLite
    // file belongs to one process, whose writes share one connection (two in one process would
    // wait on each other's open transaction): there the callers race through that one connection.
    const uri = await scratchStoreUri(dir);
    const first = await openStore(uri, log);
    const stores = /^sqlite:/i.test(uri) ? [first, first] : [first, await openStore(uri, log)];
    const directories = stores.map((store) =>
      createHostedDirectory(store.table<string>("email.t.hosted-addresses"), { domain: MAIL_DOMAIN, logins: [CATCH_ALL] }),
    );
    const users = Array.from({ length: 20 }, (_, index) => `user${index}@example.test` as BareJid);
    const results = await Promise.allSettled(users.map((user, index) => directories[index % 2]!.claim(user, "rosaline")));
    const winners = users.filter((_, index) => results[index]!.status === "fulfilled");
    assert.equal(winners.length, 1, `winners: ${winners.join(", ")}`);
    for (const result of results) if (result.status === "rejected") assert.match(String(result.reason), /belongs to someone else/);
    const owner = await stores[0]!.table<string>("email.t.hosted-addresses").get(`rosaline@${MAIL_DOMAIN}`);
    assert.equal(owner, winners[0]);
    // The winner claiming it again (a change of settings) keeps it.
    assert.equal(await directories[1]!.claim(winners[0]!, "rosaline"), `rosaline@${MAIL_DOMAIN}`);
    await Promise.all([...new Set(stores)].map((store) => store.close()));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("when the catch-all refuses the login, users are told the mailbox is unreadable, never its login", async () => {
  await juliet.send(xml("presence", { to: EMAIL, type: "subscribed" }));
  await juliet.send(xml("presence", { to: EMAIL, type: "subscribe" }));
  await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.type === "subscribed" && stanza.attrs.from === EMAIL);
  juliet.received.splice(0, juliet.received.length, ...juliet.received.filter((stanza) => stanza.name !== "presence"));
  world.dovecot.addMailbox(CATCH_ALL, "changed-by-the-operator");
  await new Promise((resolve) => setTimeout(resolve, 1_100)); // Dovecot re-reads its user file at most once a second
  try {
    await eventually(async () => world.dovecot.dropConnections(CATCH_ALL) > 0, "the catch-all session to drop");
    const down = await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.from === EMAIL && stanza.attrs.type === "unavailable", 15_000);
    const status = down.getChildText("status") ?? "";
    assert.match(status, /cannot read its mailbox for mail\.example\.test/);
    assert.doesNotMatch(status, /catchall|relay-login|127\.0\.0\.1/i);
  } finally {
    world.dovecot.addMailbox(CATCH_ALL, MAIL_PASSWORD);
  }
  await juliet.waitFor((stanza) => stanza.name === "presence" && stanza.attrs.from === EMAIL && stanza.attrs.type === undefined, 15_000);
});

// No user reaches into the operator's network: every spelling of a private address is refused as a
// personal mail server at registration and as a chat attachment URL, before any connection is made.
import assert from "node:assert/strict";
import { lookup } from "node:dns/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { checkPublicHost, isPublicAddress, type Resolver } from "../../src/transport/net-guard.js";
import { fetchAttachments } from "../../transports/email/attachments-out.js";
import { chat, eventually, MAIL_PASSWORD, personalAccount, readMailbox, registerEmail, startWorld, type World } from "../email/world.js";
import { errorCondition, errorText, xml, type TestClient } from "../support/xmpp-client.js";

const PRIVATE_FORMS = [
  "127.0.0.1",
  "127.1",
  "2130706433",
  "0x7f.1",
  "0x7f000001",
  "0177.0.0.1",
  "[::1]",
  "::ffff:127.0.0.1",
  "::ffff:7f00:1",
  "::ffff:a9fe:a9fe",
  "169.254.169.254",
  "10.0.0.1",
  "192.168.1.1",
  "172.16.0.1",
  "100.64.0.1",
  "0.0.0.0",
  "64:ff9b::7f00:1",
  "2002:7f00:1::",
  "fe80::1%eth0",
  "fc00::1",
  "localhost",
  "localhost.",
  "a.localhost",
];

/** This machine's own name, when it resolves to loopback here (through the hosts file, no network). */
async function loopbackName(): Promise<string[]> {
  const name = hostname();
  const found = await lookup(name, { all: true }).catch(() => []);
  return found.length > 0 && found.every((entry) => !isPublicAddress(entry.address)) ? [name] : [];
}

const log = pino({ level: "silent" });
const toLoopback: Resolver = async () => [{ address: "127.0.0.1", family: 4 }];

/** A loopback web server that counts the requests that reach it. */
async function countingServer(): Promise<{ server: Server; port: number; requests: () => number }> {
  let requests = 0;
  const server = createServer((_request, response) => {
    requests += 1;
    response.writeHead(200, { "content-type": "text/plain" });
    response.end("secret from the operator's network");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port, requests: () => requests };
}

const urlHost = (form: string): string => (form.includes(":") && !form.startsWith("[") ? `[${form.replace("%", "%25")}]` : form);

test("global unicast addresses pass the address check", async () => {
  for (const address of ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1"]) {
    assert.equal(isPublicAddress(address), true, address);
  }
  assert.deepEqual(await checkPublicHost("8.8.8.8"), { address: "8.8.8.8", family: 4 });
  assert.deepEqual(await checkPublicHost("[2001:4860:4860::8888]"), { address: "2001:4860:4860::8888", family: 6 });
  assert.deepEqual(await checkPublicHost("mail.example.org", { resolve: async () => [{ address: "8.8.4.4", family: 4 }] }), { address: "8.8.4.4", family: 4 });
});

test("every private form is refused by the address check, with a sentence", async () => {
  for (const form of [...PRIVATE_FORMS, ...(await loopbackName())]) {
    await assert.rejects(checkPublicHost(form), (error: Error) => /cannot be used: .+public servers\.$/.test(error.message), form);
  }
  await assert.rejects(checkPublicHost("rebind.example", { resolve: toLoopback }), /resolves to 127\.0\.0\.1, a loopback address/);
  // One private address among public ones is enough: the connection could go to any of them.
  const mixed: Resolver = async () => [
    { address: "8.8.8.8", family: 4 },
    { address: "10.0.0.1", family: 4 },
  ];
  await assert.rejects(checkPublicHost("mixed.example", { resolve: mixed }), /resolves to 10\.0\.0\.1/);
  await assert.rejects(checkPublicHost("nothing.invalid", { resolve: async () => [] }), /does not resolve/);
});

test("an attachment URL on any private form stays a link, and no request reaches the server", async () => {
  const target = await countingServer();
  try {
    const urls = [...PRIVATE_FORMS, ...(await loopbackName())].map((form) => `http://${urlHost(form)}:${target.port}/secret.txt`);
    const result = await fetchAttachments(
      urls.map((url) => ({ url })),
      { maxBytes: 1_000_000, timeoutMs: 2_000, allowPrivate: false, log },
    );
    assert.deepEqual(result.attached, []);
    assert.deepEqual(result.linked, urls);
    const rebound = await fetchAttachments([{ url: `http://rebind.example:${target.port}/secret.txt` }], {
      maxBytes: 1_000_000,
      timeoutMs: 2_000,
      allowPrivate: false,
      resolve: toLoopback,
      log,
    });
    assert.deepEqual(rebound.attached, []);
    assert.equal(target.requests(), 0, "a request reached the loopback server");
    // The same server is reachable when the operator allows private addresses.
    const allowed = await fetchAttachments([{ url: `http://127.0.0.1:${target.port}/secret.txt` }], {
      maxBytes: 1_000_000,
      timeoutMs: 2_000,
      allowPrivate: true,
      log,
    });
    assert.equal(allowed.attached.length, 1);
    assert.equal(target.requests(), 1);
  } finally {
    target.server.close();
  }
});

describe("through the gateway, private servers not allowed", () => {
  describe("personal accounts", () => {
    const JULIET_MAIL = "juliet@capulet.test";
    let world: World;
    let juliet: TestClient;
    before(async () => {
      world = await startWorld({
        mailboxes: [JULIET_MAIL],
        email: () => ({ allowPrivateServers: false }),
        // One user tries every form in a row: lift the registration rate limit for it.
        config: (config) => (config.limits = { registrationAttemptsPerUser: 1_000, registrationsPerMinute: 1_000 }),
      });
      juliet = await world.h.login("juliet");
    });
    after(async () => {
      await world?.stop();
    });

    test("a mail server on any private form is refused at registration, saying why", async () => {
      for (const form of [...PRIVATE_FORMS, ...(await loopbackName())]) {
        // The real ports and password: only the address check stands between the user and the servers.
        const reply = await registerEmail(juliet, personalAccount(world, JULIET_MAIL, { imap_host: form, smtp_host: form }));
        assert.equal(reply.attrs.type, "error", `${form} was accepted`);
        assert.equal(errorCondition(reply), "not-acceptable", form);
        assert.match(errorText(reply), /^The IMAP server .+ cannot be used: .+public servers\.$/, form);
      }
      const smtpOnly = await registerEmail(juliet, personalAccount(world, JULIET_MAIL, { imap_host: "imap.example.org", smtp_host: "::ffff:7f00:1" }));
      assert.match(errorText(smtpOnly), /^The SMTP server ::ffff:7f00:1 cannot be used: it is an address that carries 127\.0\.0\.1, a loopback address/);
    });
  });

  describe("attachments of a hosted domain", () => {
    const MAIL_DOMAIN = "mail.example.test";
    const CATCH_ALL = `catchall@${MAIL_DOMAIN}`;
    const TYBALT = "tybalt@capulet.test";
    let world: World;
    let target: Awaited<ReturnType<typeof countingServer>>;
    before(async () => {
      target = await countingServer();
      world = await startWorld({
        mailboxes: [CATCH_ALL, TYBALT],
        catchAll: { [MAIL_DOMAIN]: CATCH_ALL },
        email: ({ imap, smtp }) => ({
          allowPrivateServers: false,
          mode: "hosted",
          hosted: {
            domain: MAIL_DOMAIN,
            imap: { host: "127.0.0.1", port: imap, security: "none", user: CATCH_ALL, password: MAIL_PASSWORD },
            smtp: { host: "127.0.0.1", port: smtp, security: "none" },
          },
        }),
      });
    });
    after(async () => {
      await world?.stop();
      target?.server.close();
    });

    test("a chat attachment on any private form leaves as a link in the mail, never fetched", async () => {
      const juliet = await world.h.login("juliet");
      assert.equal((await registerEmail(juliet, { name: "Juliet" })).attrs.type, "result");
      const urls = [...PRIVATE_FORMS, ...(await loopbackName())]
        .filter((form) => !form.includes("%"))
        .map((form) => `http://${urlHost(form)}:${target.port}/secret.txt`);
      const oob = (url: string) => xml("x", { xmlns: "jabber:x:oob" }, xml("url", {}, url));
      await juliet.send(chat(TYBALT, "Files for you", { children: urls.map(oob) }));
      const mail = await eventually(
        async () => (await readMailbox(world, TYBALT)).find((entry) => entry.mail.text?.includes("Files for you"))?.mail,
        "the mail in Tybalt's mailbox",
        15_000,
      );
      assert.equal(mail.attachments.length, 0);
      for (const url of urls) assert.ok(mail.text?.includes(url), `${url} is not linked in the mail`);
      assert.equal(target.requests(), 0, "a request reached the loopback server");
    });
  });
});

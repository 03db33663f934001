// The gateway run the way docs/scaling.md tells an operator to: the role and database created with
// the doc's SQL, the store section taken from the doc's YAML block (only the host, port, password
// and folder put in), the secret key from the environment variable it names. A user registers,
// mails and texts both ways; then a second instance is started on the same config, the first is
// killed, and the same user goes on, without registering again and without an error.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import nodemailer from "nodemailer";
import pg from "pg";
import { simpleParser } from "mailparser";
import { createDatabase } from "../support/postgres.js";
import { until } from "../support/wait.js";
import type { TestClient } from "../support/xmpp-client.js";
import { xml } from "../support/xmpp-client.js";
import { bodies } from "./flow.js";
import { postWebhook } from "./traffic.js";
import { emailJid, mailAddress, NUMBER, phoneJid, startWorld, type World } from "./world.js";

const doc = readFileSync(new URL("../../../docs/scaling.md", import.meta.url), "utf8");
const section = doc.slice(doc.indexOf("## Running on PostgreSQL"), doc.indexOf("### What `npm run test:postgres` proves"));
const block = (language: string): string => {
  const found = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(section);
  assert.ok(found, `docs/scaling.md has a ${language} block under "Running on PostgreSQL"`);
  return found[1]!;
};
const DB_PASSWORD = "doc-test-password";
const SECRET_KEY = "doc-config-secret-key-0123456789";
const ROMEO_PHONE = "+14155550123";
let w: World;
let juliet: TestClient;

before(async () => {
  // The cluster's superuser runs the doc's SQL, as the operator would with psql.
  const admin = new URL(await createDatabase());
  const sql = block("sql").replace("'a long random password'", `'${DB_PASSWORD}'`);
  const client = new pg.Client({ host: admin.hostname, port: Number(admin.port), user: admin.username, database: "postgres" });
  await client.connect();
  try {
    for (const statement of sql
      .split(";")
      .map((part) => part.trim())
      .filter(Boolean))
      await client.query(statement);
  } finally {
    await client.end();
  }
  const storeYaml = (home: string) =>
    block("yaml")
      .replace("PASSWORD@db.example.org:5432", `${DB_PASSWORD}@127.0.0.1:${admin.port}`)
      .replace("/var/lib/switchboard/journal", join(home, "journal"));
  w = await startWorld({
    instances: 2,
    startStandbys: false,
    env: { SWITCHBOARD_SECRET_KEY: SECRET_KEY },
    // The doc's store section as it stands; the other sections as the rest of the suite writes them.
    configText: (config, home) =>
      [
        storeYaml(home),
        ...Object.entries(config)
          .filter(([key]) => key !== "store")
          .map(([key, value]) => `${key}: ${JSON.stringify(value)}`),
      ].join("\n"),
  });
  juliet = await w.login("juliet");
});
after(async () => {
  await w?.stop();
});

/** Juliet mails and texts Romeo, and he mails and texts her back; each arrives once. */
async function conversation(round: string): Promise<void> {
  const relayedBefore = w.relay.received.length;
  const textsBefore = w.twilio.messages.length;
  await juliet.send(xml("message", { to: emailJid(mailAddress("romeo")), type: "chat", id: `${round}-mail` }, xml("body", {}, `${round}: a mail from Juliet`)));
  await juliet.send(xml("message", { to: phoneJid(ROMEO_PHONE), type: "chat", id: `${round}-text` }, xml("body", {}, `${round}: a text from Juliet`)));
  const lmtp = nodemailer.createTransport({ host: "127.0.0.1", port: w.dovecot.lmtpPort, lmtp: true, secure: false, ignoreTLS: true });
  await lmtp.sendMail({
    envelope: { from: mailAddress("romeo"), to: [mailAddress("juliet")] },
    from: mailAddress("romeo"),
    to: mailAddress("juliet"),
    subject: round,
    text: `${round}: a mail from Romeo`,
    messageId: `<${round}@mail.example.test>`,
  });
  lmtp.close();
  let response = { status: 0 };
  for (const deadline = Date.now() + 30_000; response.status !== 200 && Date.now() < deadline; ) {
    const sid = `SM${round === "before" ? "b" : "a"}${"0".repeat(31)}`;
    const params = {
      MessageSid: sid,
      SmsSid: sid,
      AccountSid: w.operator.sid,
      From: ROMEO_PHONE,
      To: NUMBER,
      Body: `${round}: a text from Romeo`,
      NumMedia: "0",
    };
    response = { status: await postWebhook(w, w.gateways.find((gateway) => gateway.running) ?? w.gateway, params) };
    if (response.status !== 200) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.equal(response.status, 200, "the webhook is taken");

  const mailTexts = async () => Promise.all(w.relay.received.slice(relayedBefore).map(async (mail) => (await simpleParser(mail.raw)).text?.trim()));
  let mails: Array<string | undefined> = [];
  for (const deadline = Date.now() + 30_000; Date.now() < deadline && !mails.includes(`${round}: a mail from Juliet`); ) {
    mails = await mailTexts();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await until(() => w.twilio.messages.slice(textsBefore).some((message) => message.body === `${round}: a text from Juliet`), 30_000);
  await until(
    () =>
      bodies(juliet, emailJid(mailAddress("romeo"))).includes(`${round}: a mail from Romeo`) &&
      bodies(juliet, phoneJid(ROMEO_PHONE)).includes(`${round}: a text from Romeo`),
    60_000,
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  mails = await mailTexts();
  assert.deepEqual(mails.filter((text) => text === `${round}: a mail from Juliet`).length, 1, "Romeo gets Juliet's mail once");
  assert.equal(
    w.twilio.messages.slice(textsBefore).filter((message) => message.body === `${round}: a text from Juliet`).length,
    1,
    "Romeo gets Juliet's text once",
  );
  assert.equal(
    bodies(juliet, emailJid(mailAddress("romeo"))).filter((body) => body === `${round}: a mail from Romeo`).length,
    1,
    "Juliet gets Romeo's mail once",
  );
  assert.equal(bodies(juliet, phoneJid(ROMEO_PHONE)).filter((body) => body === `${round}: a text from Romeo`).length, 1, "Juliet gets Romeo's text once");
  const errors = juliet.received.filter((stanza) => stanza.attrs.type === "error" && (stanza.attrs.id ?? "").startsWith(round));
  assert.deepEqual(errors.map(String), [], "Juliet is told of no failure");
}

test("the config from docs/scaling.md runs the gateway on PostgreSQL: a user registers, mails and texts both ways", async () => {
  assert.match(readFileSync(w.gateway.configPath, "utf8"), /^store:\n {2}uri: postgresql:\/\/switchboard:/m, "the config file carries the doc's store section");
  await w.join(juliet, "juliet");
  await conversation("before");
});

test("a second instance on the same config takes over when the first is killed; the user goes on without registering again", async () => {
  const [first, second] = w.gateways as [typeof w.gateway, typeof w.gateway];
  await second.start({ standby: true });
  assert.equal(await second.answers("/readyz"), false, "the second instance stands by");
  await first.kill9();
  const killedAt = Date.now();
  await second.waitReady(15_000);
  const tookOver = Date.now() - killedAt;
  assert.ok(tookOver <= 15_000, `the second instance was ready ${tookOver} ms after the kill`);
  await conversation("after");
});

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { pino } from "pino";
import { GatewayError } from "../../src/errors.js";
import { emailConfigSchema } from "../../transports/email/config.js";
import { createMailer } from "../../transports/email/smtp.js";
import { SmtpRelay } from "../support/smtp-relay.js";
import { FAST } from "./world.js";

const relay = new SmtpRelay({ lmtpPort: 1, users: { "juliet@capulet.test": "right" } });
const mailer = createMailer(emailConfigSchema.parse(FAST), pino({ level: "silent" }));

before(async () => {
  await relay.start();
});
after(async () => {
  mailer.close();
  await relay.stop();
});

test("an SMTP login the server refuses is reported as not-authorized, naming the SMTP server", async () => {
  await assert.rejects(
    mailer.verify({ host: "127.0.0.1", port: relay.port, security: "none", user: "juliet@capulet.test", password: "wrong" }),
    (error: unknown) =>
      error instanceof GatewayError &&
      error.condition === "not-authorized" &&
      error.message.includes(`The SMTP server 127.0.0.1:${relay.port} refused the login for juliet@capulet.test`),
  );
  await mailer.verify({ host: "127.0.0.1", port: relay.port, security: "none", user: "juliet@capulet.test", password: "right" });
});

test("an SMTP server that does not answer is reported as unreachable, not as a wrong password", async () => {
  await assert.rejects(
    mailer.verify({ host: "127.0.0.1", port: 1, security: "none", user: "juliet@capulet.test", password: "right" }),
    (error: unknown) => error instanceof GatewayError && error.condition === "remote-server-not-found" && /could not be used/.test(error.message),
  );
});

test("a send to a server that is down is temporary; one it refuses with 5xx is permanent", async () => {
  const login = { host: "127.0.0.1", port: relay.port, security: "none" as const, user: "juliet@capulet.test", password: "right" };
  relay.refuse(550, "5.1.1 no such user");
  try {
    const refused = await mailer.send(login, { from: "juliet@capulet.test", to: "nobody@verona.test", subject: "x", text: "x", messageId: "<t1@gw.test>" });
    assert.equal(refused.kind, "permanent");
    assert.match(refused.kind === "permanent" ? refused.reason : "", /550 5\.1\.1 no such user/);
  } finally {
    relay.accept();
  }
  const down = await mailer.send(
    { ...login, port: 1 },
    { from: "juliet@capulet.test", to: "nobody@verona.test", subject: "x", text: "x", messageId: "<t2@gw.test>" },
  );
  assert.equal(down.kind, "temporary");
});

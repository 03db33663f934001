// A personal account's SMTP server must ask for the login: one that takes mail from anyone would
// let the gateway send as the user without any proof, so registration refuses it and says why.
import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { SMTPServer } from "smtp-server";
import { personalAccount, registerEmail, startWorld, type World } from "../email/world.js";
import { errorCondition, errorText, type TestClient } from "../support/xmpp-client.js";

const JULIET_MAIL = "juliet@capulet.test";

let world: World;
let juliet: TestClient;
let open: SMTPServer;
let openPort = 0;
let mailsTaken = 0;

before(async () => {
  // A real SMTP server that offers no AUTH at all and takes any mail.
  open = new SMTPServer({
    secure: false,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _session, callback) {
      mailsTaken += 1;
      stream.resume();
      stream.on("end", () => callback());
    },
  });
  await new Promise<void>((resolve) => open.listen(0, "127.0.0.1", resolve));
  openPort = (open.server.address() as AddressInfo).port;
  world = await startWorld({ mailboxes: [JULIET_MAIL] });
  juliet = await world.h.login("juliet");
});
after(async () => {
  await world?.stop();
  await new Promise<void>((resolve) => open.close(() => resolve()));
});

test("an SMTP server that offers no login is refused at registration, with a sentence saying why", async () => {
  const reply = await registerEmail(juliet, personalAccount(world, JULIET_MAIL, { smtp_port: String(openPort) }));
  assert.equal(reply.attrs.type, "error", "a server without AUTH was accepted");
  assert.equal(errorCondition(reply), "not-acceptable");
  assert.equal(
    errorText(reply),
    `The SMTP server 127.0.0.1:${openPort} does not ask for a login (it offers no AUTH), so it would send mail as anyone; give the server where you log in to send mail (often port 587 with STARTTLS).`,
  );
  assert.equal(mailsTaken, 0);
});

test("the same account with an SMTP server that asks for the login is accepted", async () => {
  const reply = await registerEmail(juliet, personalAccount(world, JULIET_MAIL));
  assert.equal(reply.attrs.type, "result", reply.toString());
});

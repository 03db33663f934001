// The transport kit against the e-mail transport: a real Dovecot holds the users' mailboxes, a real
// SMTP relay in front of it takes what the gateway sends (test/email/world.ts).
import { simpleParser } from "mailparser";
import { EMAIL, lmtpDeliver, personalAccount, startWorld } from "../email/world.js";
import { transportKit } from "./transport-kit.js";

const MAILBOX = { juliet: "juliet@capulet.test", romeo: "romeo@montague.test" };
let mails = 0;

transportKit({
  name: "e-mail",
  receipts: false,
  async start() {
    const world = await startWorld({ mailboxes: Object.values(MAILBOX) });
    return {
      h: world.h,
      domain: EMAIL,
      account: (user) => personalAccount(world, MAILBOX[user]),
      wrongAccount: (user) => personalAccount(world, MAILBOX[user], { password: "not-the-password" }),
      peer: (n) => `peer${n}@verona.test`,
      async carried(peer) {
        const relayed = world.relay.received.filter((mail) => mail.to.includes(peer));
        return Promise.all(
          relayed.map(async (mail) => {
            const parsed = await simpleParser(mail.raw);
            return { id: parsed.messageId ?? "", body: (parsed.text ?? "").trim() };
          }),
        );
      },
      // The peer's mail server delivers into the user's mailbox; the gateway finds it by IMAP.
      async send(peer, user, body) {
        const id = `<kit-${++mails}-${Date.now()}@verona.test>`;
        await lmtpDeliver(world, peer, MAILBOX[user], `From: ${peer}\nTo: ${MAILBOX[user]}\nSubject: kit\nMessage-ID: ${id}\n\n${body}\n`);
      },
      stop: () => world.stop(),
    };
  },
});

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { chat, joinSms, phoneJid, SMS, startSmsHarness, type SmsHarness } from "./sms-harness.js";
import { xml } from "../support/xmpp-client.js";

let s: SmsHarness;

before(async () => {
  s = await startSmsHarness({
    numbers: ["+14155550100", "+14155550101"],
    config: (config) => {
      config.access = { admins: ["juliet@example.test"] };
    },
  });
});
after(async () => {
  await s?.stop();
});

test("an admin moves a user to another of the gateway's numbers, and the old one becomes free", async () => {
  const romeo = await s.h.login("romeo");
  await joinSms(romeo, { number: "+14155550100" });
  const juliet = await s.h.login("juliet");
  await juliet.send(xml("message", { to: SMS, type: "chat", id: "admin-1" }, xml("body", {}, "edit romeo@example.test number=+14155550101")));
  const answer = await juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.from === SMS && (stanza.getChildText("body") ?? "").length > 0);
  assert.match(answer.getChildText("body")!, /Saved/);
  assert.match(answer.getChildText("body")!, /number: \+14155550101/);

  await romeo.send(chat(phoneJid("+14155550123"), "from my new number", "adm-2"));
  const [text] = await s.twilio.waitForMessages(1);
  assert.equal(text!.from, "+14155550101");
  const form = await juliet.iq(xml("iq", { type: "get", to: SMS }, xml("query", { xmlns: "jabber:iq:register" })));
  const options =
    form
      .getChild("query")
      ?.getChild("x", "jabber:x:data")
      ?.getChildren("field")
      .find((field) => field.attrs.var === "number")
      ?.getChildren("option") ?? [];
  assert.deepEqual(
    options.map((option) => option.getChildText("value")),
    ["+14155550100"],
  );
});

// slixmpp, a Jabber client that is not ours, changes a mail thread's group chat: it sets the subject
// (XEP-0045 §8.1), invites an e-mail contact (§7.8.2) and reads one person's messages from the
// archive (XEP-0313 `with`), each with its own plugin's stanzas; the mail that follows shows all.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { PASSWORD } from "../support/harness.js";
import type { TestClient } from "../support/xmpp-client.js";
import { emailJid, eventually, personalAccount, readMailbox, registerEmail, smtpSend, startWorld, type World } from "./world.js";

const JULIET = "juliet@capulet.test";
const ROMEO = "romeo@montague.test";
const NURSE = "nurse@capulet.test";
const BENVOLIO = "benvolio@montague.test";

// Kept beside the test it serves: the steps below are this test's and no other's.
const SCRIPT = `
import asyncio, json, sys
import slixmpp

jid, password, port, room, invitee = sys.argv[1:6]

def report(**fields):
    print(json.dumps(fields), flush=True)

class Client(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(jid, password)
        for plugin in ("xep_0030", "xep_0045", "xep_0059", "xep_0313"):
            self.register_plugin(plugin)
        self["feature_mechanisms"].unencrypted_plain = True
        self.add_event_handler("session_start", self.start)

    async def start(self, _event):
        await self.get_roster()
        self.send_presence()
        await self["xep_0045"].join_muc_wait(room, "Jules", maxstanzas=0, timeout=15)
        loop = asyncio.get_event_loop()
        subject = loop.create_future()
        self.add_event_handler("groupchat_subject", lambda message: subject.done() or subject.set_result(message))
        self["xep_0045"].set_subject(room, "Tea on Friday")
        told = await asyncio.wait_for(subject, timeout=15)
        report(step="subject", subject=told["subject"], nick=told["from"].resource)

        online = loop.create_future()
        self.add_event_handler("muc::%s::got_online" % room, lambda presence: online.done() or online.set_result(presence))
        self["xep_0045"].invite(room, invitee, "Join us")
        presence = await asyncio.wait_for(online, timeout=15)
        report(step="invited", nick=presence["from"].resource, jid=str(presence["muc"]["jid"]))

        archive = await self["xep_0313"].retrieve(jid=room, with_jid=slixmpp.JID(room + "/Romeo Montague"), rsm={"max": 10}, timeout=15)
        bodies = [body.text for result in archive["mam"]["results"] for body in result.xml.iter("{jabber:client}body")]
        report(step="mam", bodies=bodies)

        self.send_message(mto=room, mbody="Tea it is, cousin.", mtype="groupchat")
        await asyncio.sleep(1)
        self.disconnect()

async def main():
    client = Client()
    client.connect(("127.0.0.1", int(port)), force_starttls=False, disable_starttls=True)
    try:
        await asyncio.wait_for(client.disconnected, timeout=60)
    except asyncio.TimeoutError:
        report(step="timeout")
        sys.exit(1)

asyncio.run(main())
`;

let world: World;
let juliet: TestClient;
let folder = "";

before(async () => {
  folder = mkdtempSync(join(tmpdir(), "groups-slixmpp-"));
  writeFileSync(join(folder, "changes.py"), SCRIPT);
  world = await startWorld({ mailboxes: [JULIET, ROMEO, NURSE, BENVOLIO] });
  juliet = await world.h.login("juliet");
  const reply = await registerEmail(juliet, personalAccount(world, JULIET));
  assert.equal(reply.attrs.type, "result", reply.toString());
});
after(async () => {
  await world?.stop();
  rmSync(folder, { recursive: true, force: true });
});

test("slixmpp sets the subject, invites an e-mail contact and filters the archive by occupant; the next mail has the new subject and the new person", async () => {
  await smtpSend(
    world,
    ROMEO,
    [JULIET, NURSE],
    [
      "From: Romeo Montague <romeo@montague.test>",
      `To: ${JULIET}, Nurse <${NURSE}>`,
      "Subject: The wedding",
      "Message-ID: <slix-changes-1@montague.test>",
      "",
      "Noon, at the cell.",
      "",
    ].join("\n"),
  );
  const invitation = await juliet.waitFor((stanza) => stanza.getChild("x", "jabber:x:conference") !== undefined, 15_000);
  const room = invitation.getChild("x", "jabber:x:conference")!.attrs.jid!;
  await smtpSend(
    world,
    NURSE,
    [JULIET, ROMEO],
    [
      `From: Nurse <${NURSE}>`,
      `To: ${JULIET}, ${ROMEO}`,
      "Subject: Re: The wedding",
      "Message-ID: <slix-changes-2@capulet.test>",
      "In-Reply-To: <slix-changes-1@montague.test>",
      "References: <slix-changes-1@montague.test>",
      "",
      "Not noon, I sleep.",
      "",
    ].join("\n"),
  );
  // Taken into the room's archive (and so marked read) before slixmpp asks for it.
  await eventually(
    async () => (await readMailbox(world, JULIET)).find((entry) => entry.mail.messageId === "<slix-changes-2@capulet.test>")?.flags.has("\\Seen"),
    "the nurse's mail taken by the gateway",
    15_000,
  );

  const child = spawn(
    "/usr/bin/python3",
    [join(folder, "changes.py"), "juliet@example.test", PASSWORD, String(world.h.server.c2sPort), room, emailJid(BENVOLIO)],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const steps: Array<Record<string, unknown>> = [];
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line.startsWith("{")) steps.push(JSON.parse(line) as Record<string, unknown>);
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  assert.equal(code, 0, `${stderr}\n${JSON.stringify(steps)}`);
  const step = (name: string): Record<string, unknown> => steps.find((candidate) => candidate.step === name) ?? assert.fail(`no ${name} step: ${stderr}`);

  assert.deepEqual(step("subject"), { step: "subject", subject: "Tea on Friday", nick: "Jules" });
  assert.deepEqual(step("invited"), { step: "invited", nick: BENVOLIO, jid: emailJid(BENVOLIO) });
  assert.deepEqual(step("mam").bodies, ["Noon, at the cell."], "Romeo's message only, not the nurse's");

  const sent = await eventually(async () => world.relay.received.find((mail) => mail.raw.toString("utf8").includes("Tea it is, cousin.")), "the mail to all");
  assert.deepEqual([...sent.to].sort(), [BENVOLIO, NURSE, ROMEO]);
  assert.match(sent.raw.toString("latin1"), /^Subject: Tea on Friday\r?$/im);
});

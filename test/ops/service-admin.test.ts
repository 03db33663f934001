// XEP-0133 on the transport's JID, used by a real client through Prosody: registered users (number
// and list), deleting a user, an announcement to every registered user, editing a user's settings
// (never their secrets), for admins only.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startHarness, GATEWAY, PASSWORD, type Harness } from "../support/harness.js";
import { registerAndSubscribe } from "../support/register.js";
import { errorCondition, xml, type Element, type TestClient } from "../support/xmpp-client.js";

const COMMANDS = "http://jabber.org/protocol/commands";
const ADMIN = "http://jabber.org/protocol/admin";
const DATA = "jabber:x:data";
let h: Harness;
let admin: TestClient;
let juliet: TestClient;
let romeo: TestClient;
before(async () => {
  h = await startHarness({ users: ["juliet", "romeo", "nurse", "prince"], config: (raw) => (raw.access = { admins: ["prince@example.test"] }) });
  juliet = await h.login("juliet");
  romeo = await h.login("romeo");
  await registerAndSubscribe(juliet);
  await registerAndSubscribe(romeo);
  // The nurse registers, then goes offline: the announcement waits for her on the server.
  const nurse = await h.login("nurse", { resource: "first" });
  await registerAndSubscribe(nurse);
  await nurse.stop();
  admin = await h.login("prince");
});
after(async () => {
  await h?.stop();
});

const execute = (client: TestClient, name: string, extra: Record<string, string> = {}, ...children: Element[]) =>
  client.iq(xml("iq", { type: "set", to: GATEWAY }, xml("command", { xmlns: COMMANDS, node: `${ADMIN}#${name}`, ...extra }, ...children)));
const submit = (values: Record<string, string | string[]>) =>
  xml(
    "x",
    { xmlns: DATA, type: "submit" },
    xml("field", { var: "FORM_TYPE", type: "hidden" }, xml("value", {}, ADMIN)),
    ...Object.entries(values).map(([name, value]) => xml("field", { var: name }, ...[value].flat().map((item) => xml("value", {}, item)))),
  );
/** Runs a command that shows a form first: execute, then complete with `values`. */
const run = async (client: TestClient, name: string, values: Record<string, string | string[]>): Promise<Element> => {
  const first = (await execute(client, name)).getChild("command", COMMANDS)!;
  assert.equal(first.attrs.status, "executing");
  const form = first.getChild("x", DATA)!;
  assert.equal(form.attrs.type, "form");
  assert.equal(fieldValues(form, "FORM_TYPE")[0], ADMIN);
  return (await execute(client, name, { sessionid: first.attrs.sessionid!, action: "complete" }, submit(values))).getChild("command", COMMANDS)!;
};
const fieldValues = (form: Element, name: string): string[] =>
  form
    .getChildren("field")
    .find((field) => field.attrs.var === name)
    ?.getChildren("value")
    .map((value) => value.text()) ?? [];
const commandNodes = async (client: TestClient): Promise<string[]> => {
  const reply = await client.iq(xml("iq", { type: "get", to: GATEWAY }, xml("query", { xmlns: "http://jabber.org/protocol/disco#items", node: COMMANDS })));
  return reply
    .getChild("query")!
    .getChildren("item")
    .map((item) => item.attrs.node!);
};

test("admins see the XEP-0133 commands on the transport's JID; users neither see nor run them", async () => {
  const nodes = await commandNodes(admin);
  for (const name of ["get-registered-users-num", "get-registered-users-list", "delete-user", "announce", "edit-user"])
    assert.ok(nodes.includes(`${ADMIN}#${name}`), name);
  assert.ok(!(await commandNodes(juliet)).some((node) => node.startsWith(ADMIN)));
  const refused = await execute(juliet, "get-registered-users-num");
  assert.equal(refused.attrs.type, "error");
  assert.equal(errorCondition(refused), "item-not-found");
});

test("the number and the list of registered users come as result forms with the standard fields", async () => {
  const num = (await execute(admin, "get-registered-users-num")).getChild("command", COMMANDS)!;
  assert.equal(num.attrs.status, "completed");
  const result = num.getChild("x", DATA)!;
  assert.equal(result.attrs.type, "result");
  assert.deepEqual(fieldValues(result, "FORM_TYPE"), [ADMIN]);
  assert.deepEqual(fieldValues(result, "registeredusersnum"), ["3"]);

  const first = (await execute(admin, "get-registered-users-list")).getChild("command", COMMANDS)!;
  const maxItems = first
    .getChild("x", DATA)!
    .getChildren("field")
    .find((field) => field.attrs.var === "max_items")!;
  assert.equal(maxItems.attrs.type, "list-single");
  const list = await run(admin, "get-registered-users-list", { max_items: "none" });
  assert.equal(list.attrs.status, "completed");
  const jids = list
    .getChild("x", DATA)!
    .getChildren("field")
    .find((field) => field.attrs.var === "registereduserjids")!;
  assert.equal(jids.attrs.type, "jid-multi");
  assert.deepEqual(fieldValues(list.getChild("x", DATA)!, "registereduserjids"), ["juliet@example.test", "nurse@example.test", "romeo@example.test"]);
  const two = await run(admin, "get-registered-users-list", { max_items: "25" });
  assert.equal(fieldValues(two.getChild("x", DATA)!, "registereduserjids").length, 3);
});

test("an announcement reaches every registered user, online now or later, and no one else", async () => {
  const toJuliet = juliet.waitFor((stanza) => stanza.name === "message" && stanza.attrs.from === GATEWAY && stanza.getChildText("subject") === "Maintenance");
  const toRomeo = romeo.waitFor((stanza) => stanza.name === "message" && stanza.attrs.from === GATEWAY && stanza.getChildText("subject") === "Maintenance");
  const done = await run(admin, "announce", { subject: "Maintenance", announcement: ["The gateway restarts at noon.", "It will be back at once."] });
  assert.equal(done.attrs.status, "completed");
  assert.equal(done.getChildText("note"), "Sent to 3 registered users.");
  for (const message of [await toJuliet, await toRomeo]) {
    assert.equal(message.getChildText("body"), "The gateway restarts at noon.\nIt will be back at once.");
    // A normal message: ejabberd passes it on without the type attribute, whose default is normal.
    assert.equal(message.attrs.type ?? "normal", "normal");
  }
  const nurse = await h.login("nurse", { resource: "second" });
  const kept = await nurse.waitFor((stanza) => stanza.name === "message" && stanza.attrs.from === GATEWAY && stanza.getChildText("subject") === "Maintenance");
  assert.match(kept.getChildText("body")!, /restarts at noon/);
  assert.ok(!admin.received.some((stanza) => stanza.name === "message" && stanza.getChildText("subject") === "Maintenance"), "the admin is not registered");
});

test("editing a user shows their settings without any secret, saves a change, and keeps the stored password", async () => {
  const first = (await execute(admin, "edit-user")).getChild("command", COMMANDS)!;
  const asked = first.getChild("x", DATA)!;
  assert.equal(asked.getChildren("field").find((field) => field.attrs.var === "accountjid")?.attrs.type, "jid-single");
  const second = (
    await execute(admin, "edit-user", { sessionid: first.attrs.sessionid!, action: "complete" }, submit({ accountjid: "juliet@example.test" }))
  ).getChild("command", COMMANDS)!;
  assert.equal(second.attrs.status, "executing");
  const settings = second.getChild("x", DATA)!;
  assert.deepEqual(
    settings
      .getChildren("field")
      .map((field) => field.attrs.var)
      .filter((name) => name !== "FORM_TYPE"),
    ["address", "color"],
  );
  assert.deepEqual(fieldValues(settings, "address"), ["juliet@mail.example.com"]);
  assert.ok(!settings.toString().includes("secret"), "no secret in the form");
  // A password slipped into the submission is not taken from an admin.
  const done = (
    await execute(admin, "edit-user", { sessionid: first.attrs.sessionid!, action: "complete" }, submit({ color: "blue", password: "admin-chosen" }))
  ).getChild("command", COMMANDS)!;
  assert.equal(done.attrs.status, "completed");
  assert.equal(done.getChildText("note"), "Saved the settings of juliet@example.test (changed: color).");
  assert.deepEqual(h.transport.registered.get("juliet@example.test"), { address: "juliet@mail.example.com", password: "secret", color: "blue" });

  const unknown = (await execute(admin, "edit-user")).getChild("command", COMMANDS)!;
  const refused = await execute(admin, "edit-user", { sessionid: unknown.attrs.sessionid!, action: "complete" }, submit({ accountjid: "nobody@example.test" }));
  assert.equal(refused.attrs.type, "error");
  assert.equal(errorCondition(refused), "item-not-found");
  const byUser = await execute(juliet, "edit-user");
  assert.equal(errorCondition(byUser), "item-not-found");
});

test("deleting a user unregisters them as their own unregistration would: the transport lets go, the registration is gone", async () => {
  const done = await run(admin, "delete-user", { accountjids: ["romeo@example.test", "nobody@example.test"] });
  assert.equal(done.attrs.status, "completed");
  assert.equal(done.getChildText("note"), "Deleted: romeo@example.test. Not registered here: nobody@example.test.");
  assert.ok(h.transport.unregistered.includes("romeo@example.test"), "the transport released the account");
  const num = (await execute(admin, "get-registered-users-num")).getChild("command", COMMANDS)!;
  assert.deepEqual(fieldValues(num.getChild("x", DATA)!, "registeredusersnum"), ["2"]);
  // Romeo, no longer registered, is told so when he writes through the gateway.
  const reply = await romeo.iq(xml("iq", { type: "get", to: GATEWAY }, xml("query", { xmlns: "jabber:iq:register" })));
  assert.equal(reply.getChild("query", "jabber:iq:register")!.getChild("registered"), undefined);
});

test("an independent client (slixmpp) finds the commands, lists the users and announces", async () => {
  const script = fileURLToPath(new URL("../../../test/ops/slixmpp-admin.py", import.meta.url));
  const child = spawn("/usr/bin/python3", [script, "prince@example.test", PASSWORD, String(h.server.c2sPort), GATEWAY], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const announced = juliet.waitFor(
    (stanza) => stanza.name === "message" && stanza.attrs.from === GATEWAY && stanza.getChildText("subject") === "From slixmpp",
    30_000,
  );
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const steps = Object.fromEntries(
    stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { step: string })
      .map((step) => [step.step, step]),
  );
  assert.equal(code, 0, `slixmpp exited ${code}: ${stdout}${stderr}`);
  assert.equal(steps.error, undefined, JSON.stringify(steps.error));
  assert.deepEqual(steps.commands, {
    step: "commands",
    nodes: ["announce", "delete-user", "edit-user", "get-registered-users-list", "get-registered-users-num"].map((name) => `${ADMIN}#${name}`),
  });
  assert.deepEqual(steps.edit, {
    step: "edit",
    fields: ["address", "color"],
    color: ["blue"],
    status: "completed",
    note: "Saved the settings of juliet@example.test (changed: color).",
  });
  assert.equal(h.transport.registered.get("juliet@example.test")?.color, "red");
  assert.equal(h.transport.registered.get("juliet@example.test")?.password, "secret");
  assert.deepEqual(steps.num, { step: "num", status: "completed", value: ["2"] });
  assert.deepEqual(steps.list, { step: "list", status: "completed", jids: ["juliet@example.test", "nurse@example.test"] });
  assert.deepEqual(steps.announce, { step: "announce", status: "completed", note: "Sent to 2 registered users." });
  assert.equal((await announced).getChildText("body"), "Line one\nLine two");
});

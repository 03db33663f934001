// XEP-0133 edit user and the user's secrets, on the command itself (the client-facing side is in
// service-admin.test.ts): a stored password is never shown, never replaced by an admin, and never
// sent to a server the admin chose.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GatewayError } from "../../src/errors.js";
import { createAccess } from "../../src/gateway/state/access.js";
import { createAccounts } from "../../src/gateway/state/accounts.js";
import type { CommandForm } from "../../src/gateway/handlers/commands/command.js";
import { serviceAdminCommands } from "../../src/gateway/handlers/commands/service-admin.js";
import type { Gateway } from "../../src/gateway/gateway.js";
import { createRegistrations } from "../../src/gateway/state/registrations.js";
import { createLogger } from "../../src/log.js";
import { createSecretBox } from "../../src/store/secrets.js";
import type { BareJid } from "../../src/xmpp/jid.js";
import { memoryTable } from "../support/memory-table.js";
import { createTestTransport } from "../support/test-transport.js";

const JULIET = "juliet@example.test" as BareJid;
const admin = { user: "prince@example.test" as BareJid, isAdmin: true, registered: false };

function world() {
  // The password goes to the server named by the address, as an e-mail account's goes to its SMTP server.
  const transport = { ...createTestTransport(), secretBinding: (secret: string) => (secret === "password" ? ["address"] : []) };
  const registrations = createRegistrations(memoryTable(), createSecretBox("a long passphrase for the test"), transport.secretFields);
  const gateway = {
    domain: "test.example.test",
    serverDomain: "example.test",
    transport,
    log: createLogger("silent"),
    limits: { registrationAttemptsPerUser: 100, registrationsPerMinute: 100 },
    access: createAccess({ admins: [admin.user], serverDomain: "example.test" }),
    registrations,
  } as unknown as Gateway;
  const accounts = createAccounts(gateway, { registered: async () => undefined, unregistered: async () => undefined });
  const editUser = serviceAdminCommands({ gateway, accounts }).find((command) => command.node === "http://jabber.org/protocol/admin#edit-user")!;
  return { registrations, accounts, editUser };
}

test("edit user shows no secret, takes none from the admin, and refuses to send the stored one elsewhere", async () => {
  const { registrations, accounts, editUser } = world();
  await accounts.register(JULIET, { address: "juliet@mail.example.com", password: "hunter2", color: "red" });

  const first = await editUser.run(admin, { accountjid: " juliet@example.test " });
  assert.ok("form" in first);
  const form: CommandForm = first.form;
  assert.deepEqual(
    form.fields.map((field) => field.var),
    ["address", "color"],
  );
  assert.ok(!JSON.stringify(form).includes("hunter2"));
  assert.deepEqual(first.state, { accountjid: JULIET });

  await assert.rejects(
    editUser.run(admin, { address: "juliet@elsewhere.example", color: "red" }, first.state),
    (error: unknown) =>
      error instanceof GatewayError &&
      error.code === "secret-needed" &&
      /stored password to another server or account; only juliet@example\.test can make it/.test(error.message),
  );
  assert.equal((await registrations.get(JULIET))?.fields.address, "juliet@mail.example.com");

  const saved = await editUser.run(admin, { address: "juliet@mail.example.com", color: "blue", password: "admin-chosen" }, first.state);
  assert.deepEqual(saved, { note: "Saved the settings of juliet@example.test (changed: color)." });
  assert.deepEqual((await registrations.get(JULIET))?.fields, { address: "juliet@mail.example.com", password: "hunter2", color: "blue" });
});

test("edit user refuses a JID that is no user's, and a user who is not registered", async () => {
  const { editUser } = world();
  await assert.rejects(
    editUser.run(admin, { accountjid: "example.test" }),
    (error: unknown) => error instanceof GatewayError && error.condition === "jid-malformed",
  );
  await assert.rejects(editUser.run(admin, { accountjid: JULIET }), (error: unknown) => error instanceof GatewayError && error.condition === "item-not-found");
});

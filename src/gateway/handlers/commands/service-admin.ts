// XEP-0133 Service Administration (https://xmpp.org/extensions/xep-0133.html), the part that fits a
// transport: the number and list of registered users, deleting users, an announcement to all
// registered users, and editing a user's registration. Standard nodes and fields, so that clients'
// and servers' admin tools work; for the JIDs listed under access.admins, like the gateway's own
// admin commands.
import { randomUUID } from "node:crypto";
import { GatewayError, gatewayError } from "../../../errors.js";
import { parseJid, type BareJid } from "../../../xmpp/jid.js";
import { xml, xmlText } from "../../../xmpp/xml.js";
import type { Accounts } from "../../state/accounts.js";
import type { Gateway } from "../../gateway.js";
import type { Command, CommandField } from "./command.js";

export const NS_ADMIN = "http://jabber.org/protocol/admin";
const node = (name: string): string => `${NS_ADMIN}#${name}`;

/** Announcements go out this many at a time (each waits for the server's confirmation). */
const ANNOUNCE_BATCH = 50;
const MAX_ITEMS = ["25", "50", "75", "100", "150", "200"];
/** The users listed when max_items is "none" or missing: XEP-0133 leaves the number to the service,
 *  and the answer is one stanza, which the server refuses (closing the component stream for every
 *  user of the transport) past its limit: 512 KiB on Prosody, 256 KB on ejabberd, less on some clients. */
const DEFAULT_MAX_ITEMS = 200;
/** What the JIDs of one list may weigh, whatever max_items says: a bare JID may be 3 KB long. */
const LIST_BYTES = 64_000;
/** Names an answer lists in full; the rest are counted. */
const NAMES_SHOWN = 20;

/** "a, b, c", or the first NAMES_SHOWN and "and 37 more". */
const named = (jids: readonly string[]): string =>
  jids.length <= NAMES_SHOWN ? jids.join(", ") : `${jids.slice(0, NAMES_SHOWN).join(", ")} and ${jids.length - NAMES_SHOWN} more`;

export interface ServiceAdminDeps {
  gateway: Gateway;
  accounts: Accounts;
}

export function serviceAdminCommands({ gateway, accounts }: ServiceAdminDeps): Command[] {
  const { registrations, domain, log } = gateway;
  const registered = async (): Promise<BareJid[]> => {
    const users: BareJid[] = [];
    for await (const user of registrations.users()) users.push(user);
    return users.sort();
  };
  const common = { admin: true, formType: NS_ADMIN } as const;
  const { secretFields } = gateway.transport;
  /** Secrets are the user's: never shown to an admin, never taken from one. */
  const isSecret = (field: { var: string; type: string }): boolean => secretFields.includes(field.var) || field.type === "text-private";
  const accountOf = (text: string | undefined): BareJid => {
    const jid = parseJid((text ?? "").trim());
    if (!jid.local || !jid.domain) throw gatewayError("jid-malformed", `"${text ?? ""}" is not a user's Jabber ID (like alice@example.org).`);
    return jid.bare;
  };

  return [
    {
      ...common,
      node: node("get-registered-users-num"),
      name: "Get Number of Registered Users",
      async run() {
        const count = (await registered()).length;
        return {
          result: {
            title: "Number of Registered Users",
            fields: [{ var: "registeredusersnum", label: "The number of registered users", type: "text-single", value: String(count) }],
          },
        };
      },
    },
    {
      ...common,
      node: node("get-registered-users-list"),
      name: "Get List of Registered Users",
      form: async () => ({
        title: "Requesting List of Registered Users",
        instructions: `Users registered with ${domain}, by Jabber ID: at most ${DEFAULT_MAX_ITEMS} with "none", and the answer gives their number in all.`,
        fields: [
          {
            var: "max_items",
            label: "Maximum number of items to show",
            type: "list-single",
            value: "none",
            options: [...MAX_ITEMS, "none"].map((value) => ({ label: value, value })),
          },
        ],
      }),
      async run(_caller, values) {
        const asked = (values.max_items ?? "").trim();
        const max = asked === "" || asked === "none" ? DEFAULT_MAX_ITEMS : /^\d{1,9}$/.test(asked) ? Number(asked) : 0;
        if (!(max > 0)) throw gatewayError("bad-request", `max_items is one of ${[...MAX_ITEMS, "none"].join(", ")}.`);
        const users = await registered();
        const shown: string[] = [];
        let bytes = 0;
        for (const user of users.slice(0, max)) {
          bytes += Buffer.byteLength(user) + "<value></value>".length;
          if (bytes > LIST_BYTES) break;
          shown.push(user);
        }
        const fields: CommandField[] = [
          { var: "registereduserjids", label: "The list of all users", type: "jid-multi", value: shown.join("\n") },
          // Not in XEP-0133's list form: get-registered-users-num's field, so a client sees the list is cut.
          { var: "registeredusersnum", label: "The number of registered users", type: "text-single", value: String(users.length) },
        ];
        const why =
          shown.length < Math.min(max, users.length)
            ? "more would not fit in one answer"
            : asked === "" || asked === "none"
              ? `"none" shows at most ${DEFAULT_MAX_ITEMS}`
              : `max_items is ${max}`;
        const cut = shown.length < users.length && `The first ${shown.length} of ${users.length} (${why}); the chat command 'users PAGE' lists them all.`;
        return { result: { title: "List of Registered Users", fields }, ...(cut && { note: cut }) };
      },
    },
    {
      ...common,
      node: node("delete-user"),
      name: "Delete User",
      form: async () => ({
        title: "Deleting a User",
        instructions: `Unregisters the users from ${domain}: their accounts with the transport end and everything the gateway stored for them is removed.`,
        fields: [{ var: "accountjids", label: "The Jabber ID(s) to delete", type: "jid-multi", required: true }],
      }),
      async run(caller, values) {
        const jids = (values.accountjids ?? "").split(/[\s,]+/).filter(Boolean);
        if (jids.length === 0) throw gatewayError("bad-request", "Give the Jabber ID of at least one user to delete.");
        const users = jids.map(accountOf);
        const deleted: string[] = [];
        const unknown: string[] = [];
        for (const user of [...new Set(users)]) {
          if (!(await registrations.isRegistered(user))) {
            unknown.push(user);
            continue;
          }
          await accounts.unregister(user);
          deleted.push(user);
        }
        log.info({ by: caller.user, deleted, unknown }, "users deleted by an admin (XEP-0133)");
        const lines = [
          deleted.length > 0 ? `Deleted: ${named(deleted)}.` : "Nobody was deleted.",
          ...(unknown.length > 0 ? [`Not registered here: ${named(unknown)}.`] : []),
        ];
        return { note: lines.join(" ") };
      },
    },
    {
      // Not one of XEP-0133's own use cases: its node name and accountjid field follow theirs.
      ...common,
      node: node("edit-user"),
      name: "Edit User",
      form: async () => ({
        title: "Editing a User",
        instructions: `Changes the settings of a user registered with ${domain}. Their passwords and other secrets are not shown and cannot be changed here.`,
        fields: [{ var: "accountjid", label: "The Jabber ID of the user to edit", type: "jid-single", required: true }],
      }),
      async run(caller, values, state) {
        if (!state?.accountjid) {
          const user = accountOf(values.accountjid);
          const { form, registered } = await accounts.form(user);
          if (!registered) throw gatewayError("item-not-found", `${user} is not registered with ${domain}.`);
          return {
            form: {
              title: `Settings of ${user}`,
              instructions: `Change what needs changing. The passwords of ${user} are not shown and stay as they are; a change that would send one to another server is refused.`,
              fields: form.fields.filter((field) => !isSecret(field)),
            },
            state: { accountjid: user },
          };
        }
        const user = accountOf(state.accountjid);
        if (!(await registrations.isRegistered(user))) throw gatewayError("item-not-found", `${user} is no longer registered with ${domain}.`);
        const { form } = await accounts.form(user);
        const submitted = Object.fromEntries(
          Object.entries(values).filter(([name]) => !form.fields.some((field) => field.var === name && isSecret(field)) && !secretFields.includes(name)),
        );
        try {
          await accounts.register(user, submitted);
        } catch (error) {
          // The user's stored secret goes only where they entered it for: a change that would send it elsewhere is theirs to make.
          if (error instanceof GatewayError && error.code === "secret-needed") {
            throw new GatewayError(
              "not-acceptable",
              `That change would send ${user}'s stored password to another server or account; only ${user} can make it, by registering again.`,
              { code: "secret-needed" },
            );
          }
          throw error;
        }
        const changed = Object.keys(submitted).filter((name) => form.fields.some((field) => field.var === name && field.value !== submitted[name]));
        log.info({ by: caller.user, user, changed }, "a user's settings changed by an admin (XEP-0133)");
        return {
          note: changed.length > 0 ? `Saved the settings of ${user} (changed: ${changed.join(", ")}).` : `Saved the settings of ${user}; nothing changed.`,
        };
      },
    },
    {
      ...common,
      node: node("announce"),
      name: "Send Announcement to Registered Users",
      form: async () => ({
        title: "Making an Announcement",
        instructions: `A message from ${domain} to every user registered with it (kept by the server for users who are offline).`,
        fields: [
          { var: "subject", label: "Subject", type: "text-single" },
          { var: "announcement", label: "Announcement", type: "text-multi", required: true },
        ],
      }),
      async run(caller, values) {
        const body = (values.announcement ?? "").trim();
        if (!body) throw gatewayError("bad-request", "The announcement is empty.");
        const subject = values.subject?.trim();
        const users = await registered();
        let sent = 0;
        for (let start = 0; start < users.length; start += ANNOUNCE_BATCH) {
          const batch = users.slice(start, start + ANNOUNCE_BATCH);
          const results = await Promise.allSettled(
            batch.map((user) =>
              // type normal: the server keeps it for users who are offline (a headline it would drop).
              gateway.send(
                xml(
                  "message",
                  { from: domain, to: user, type: "normal", id: randomUUID() },
                  subject ? xml("subject", {}, xmlText(subject, 500)) : null,
                  xml("body", {}, xmlText(body, 20_000)),
                ),
              ),
            ),
          );
          sent += results.filter((result) => result.status === "fulfilled").length;
        }
        log.info({ by: caller.user, users: users.length, sent }, "announcement sent (XEP-0133)");
        return {
          note:
            sent === users.length
              ? `Sent to ${sent} registered user${sent === 1 ? "" : "s"}.`
              : `Sent to ${sent} of ${users.length} registered users; the server did not take the others.`,
        };
      },
      chat: { keyword: "announce", usage: "announce TEXT", parse: (args) => ({ announcement: args }) },
    },
  ];
}

// XEP-0050 ad-hoc commands on the transport's JID: list, execute, multi-step forms, cancel.
import { randomUUID } from "node:crypto";
import { LRUCache } from "lru-cache";
import { gatewayError } from "../../../errors.js";
import type { Fields } from "../../../transport/contract.js";
import type { BareJid } from "../../../xmpp/jid.js";
import { xml, type Element } from "../../../xmpp/xml.js";
import { submittedFields } from "../../data-form.js";
import type { Router } from "../../router.js";
import type { Command, CommandCaller, CommandForm, CommandOutcome } from "./command.js";
import { visibleTo } from "./command.js";

export const NS_COMMANDS = "http://jabber.org/protocol/commands";
const SESSION_TTL_MS = 10 * 60_000;
/** Open multi-step commands per user; starting one more ends that user's oldest. */
export const MAX_SESSIONS_PER_USER = 5;
const MAX_SESSIONS = 10_000;

interface Session {
  user: BareJid;
  command: Command;
  state?: Fields;
  expires: number;
}

export interface CommandSet {
  commands: Command[];
  caller(user: BareJid): Promise<CommandCaller>;
}

/** disco#items for the commands node: what this user may run. */
export async function commandItems(set: CommandSet, domain: string, user: BareJid): Promise<Element[]> {
  const caller = await set.caller(user);
  return set.commands.filter((command) => visibleTo(command, caller)).map((command) => xml("item", { jid: domain, node: command.node, name: command.name }));
}

export function registerAdhoc(router: Router, set: CommandSet): void {
  // Least recently used first: a user's first session in that order is the one they left longest ago.
  const sessions = new LRUCache<string, Session>({ max: MAX_SESSIONS });
  const makeRoom = (user: BareJid): void => {
    const mine = [...sessions.rkeys()].filter((id) => sessions.peek(id)?.user === user);
    for (const id of mine.slice(0, Math.max(0, mine.length - MAX_SESSIONS_PER_USER + 1))) sessions.delete(id);
  };

  const reply = (command: Command | string, sessionid: string, outcome: CommandOutcome | "canceled"): Element => {
    const node = typeof command === "string" ? command : command.node;
    const formType = (typeof command !== "string" && command.formType) || `urn:switchboard:command:${node}`;
    if (outcome === "canceled") return xml("command", { xmlns: NS_COMMANDS, node, sessionid, status: "canceled" });
    const note = "note" in outcome && outcome.note ? xml("note", { type: "info" }, outcome.note) : null;
    if ("result" in outcome)
      return xml("command", { xmlns: NS_COMMANDS, node, sessionid, status: "completed" }, note, commandForm(outcome.result, formType, "result"));
    if ("note" in outcome) return xml("command", { xmlns: NS_COMMANDS, node, sessionid, status: "completed" }, note);
    return xml(
      "command",
      { xmlns: NS_COMMANDS, node, sessionid, status: "executing" },
      xml("actions", { execute: "complete" }, xml("complete")),
      commandForm(outcome.form, formType, "form"),
    );
  };

  router.iq("set", NS_COMMANDS, "command", async ({ from, payload }) => {
    const now = Date.now();
    for (const [id, session] of sessions) if (session.expires < now) sessions.delete(id);

    const node = payload.attrs.node ?? "";
    const action = payload.attrs.action ?? "execute";
    const caller = await set.caller(from.bare);
    const sessionid = payload.attrs.sessionid;

    if (sessionid) {
      const session = sessions.get(sessionid);
      if (!session || session.user !== from.bare || session.command.node !== node) {
        throw gatewayError("bad-request", "This command session has expired or is not yours; start the command again.", "session-expired");
      }
      if (action === "cancel") {
        sessions.delete(sessionid);
        return reply(session.command, sessionid, "canceled");
      }
      const x = payload.getChild("x", "jabber:x:data");
      if (!x) throw gatewayError("bad-request", "Submit the command's form to go on.");
      const outcome = await session.command.run(caller, submittedFields(x), session.state);
      if ("form" in outcome) {
        sessions.set(sessionid, { ...session, ...(outcome.state && { state: outcome.state }), expires: now + SESSION_TTL_MS });
      } else {
        sessions.delete(sessionid);
      }
      return reply(session.command, sessionid, outcome);
    }

    const command = set.commands.find((candidate) => candidate.node === node);
    if (!command || !visibleTo(command, caller)) {
      throw gatewayError("item-not-found", command?.admin ? "Only the gateway's admins may run this command." : `There is no command "${node}" here.`);
    }
    if (action === "cancel") return reply(command, randomUUID(), "canceled");
    const id = randomUUID();
    if (!command.form) return reply(command, id, await command.run(caller, {}));
    makeRoom(from.bare);
    sessions.set(id, { user: from.bare, command, expires: now + SESSION_TTL_MS });
    return reply(command, id, { form: await command.form(caller) });
  });
}

/** A XEP-0004 form to fill in, or the result of a command; a *-multi field has a value a line. */
function commandForm(form: CommandForm, formType: string, type: "form" | "result"): Element {
  return xml(
    "x",
    { xmlns: "jabber:x:data", type },
    xml("title", {}, form.title),
    form.instructions ? xml("instructions", {}, form.instructions) : null,
    xml("field", { type: "hidden", var: "FORM_TYPE" }, xml("value", {}, formType)),
    ...form.fields.map((field) => {
      const values = field.type.endsWith("-multi") ? (field.value ?? "").split("\n").filter(Boolean) : field.value ? [field.value] : [];
      return xml(
        "field",
        { var: field.var, type: field.type, label: field.label },
        field.desc ? xml("desc", {}, field.desc) : null,
        field.required && type === "form" ? xml("required") : null,
        ...values.map((value) => xml("value", {}, value)),
        ...(field.options ?? []).map((option) => xml("option", { label: option.label }, xml("value", {}, option.value))),
      );
    }),
  );
}

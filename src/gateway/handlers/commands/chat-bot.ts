// The same commands by chat, for clients without XEP-0050: "help" lists them.
import type { Fields } from "../../../transport/contract.js";
import type { BareJid } from "../../../xmpp/jid.js";
import { asGatewayError } from "../../../errors.js";
import type { CommandSet } from "./adhoc.js";
import { visibleTo, type CommandForm } from "./command.js";

/** Runs one chat line and returns the answer to send back. */
export async function chatCommand(set: CommandSet, user: BareJid, line: string, intro: string): Promise<string> {
  const caller = await set.caller(user);
  const visible = set.commands.filter((command) => visibleTo(command, caller));
  const [word = ""] = line.trim().split(/\s+/);
  const keyword = word.toLowerCase();
  const command = visible.find((candidate) => candidate.chat?.keyword === keyword);
  if (!command?.chat) {
    const known = set.commands.some((candidate) => candidate.chat?.keyword === keyword);
    const lead = keyword === "help" || keyword === "" ? intro : known ? `You cannot use "${keyword}" now.` : `I do not know "${word}".`;
    const usable = visible.flatMap((candidate) => (candidate.chat ? [`  ${candidate.chat.usage}  ${candidate.name.replace(/^Admin: /, "(admin) ")}`] : []));
    return [lead, "Commands:", ...usable].join("\n");
  }
  const chat = command.chat;
  const args = line.trim().slice(word.length).trim();
  try {
    let values: Fields = chat.parse(args);
    let state: Fields | undefined;
    // Multi-step commands take every step's values from the one chat line.
    for (let step = 0; step < 3; step += 1) {
      const outcome = await command.run(caller, values, state);
      if ("result" in outcome) return resultText(outcome.result, outcome.note);
      if ("note" in outcome) return outcome.note;
      state = outcome.state;
      values = chat.parse(args);
    }
    return "That command needs more than a chat line can give; use your client's ad-hoc commands.";
  } catch (error) {
    return `${asGatewayError(error).message}\nUsage: ${chat.usage}`;
  }
}

/** A result form as lines of text: "Label: value", lists one value a line below their label. */
function resultText(form: CommandForm, note?: string): string {
  const fields = form.fields.map((field) => {
    const values = (field.value ?? "").split("\n").filter(Boolean);
    return field.type.endsWith("-multi") ? [`${field.label}:`, ...values.map((value) => `  ${value}`)].join("\n") : `${field.label}: ${values.join(" ")}`;
  });
  return [...(note ? [note] : []), ...fields].join("\n");
}

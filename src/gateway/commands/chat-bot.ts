// The same commands by chat, for clients without XEP-0050: "help" lists them.
import type { Fields } from "../../transport/contract.js";
import type { BareJid } from "../../xmpp/jid.js";
import { asGatewayError } from "../../errors.js";
import type { CommandSet } from "./adhoc.js";
import { visibleTo } from "./command.js";

/** Runs one chat line and returns the answer to send back. */
export async function chatCommand(set: CommandSet, user: BareJid, line: string, intro: string): Promise<string> {
  const caller = await set.caller(user);
  const visible = set.commands.filter((command) => visibleTo(command, caller));
  const [word = "", ...rest] = line.trim().split(/\s+/);
  const keyword = word.toLowerCase();
  const command = visible.find((candidate) => candidate.chat.keyword === keyword);
  if (!command) {
    const known = set.commands.some((candidate) => candidate.chat.keyword === keyword);
    const lead = keyword === "help" || keyword === "" ? intro : known ? `You cannot use "${keyword}" now.` : `I do not know "${word}".`;
    return [lead, "Commands:", ...visible.map((candidate) => `  ${candidate.chat.usage}  ${candidate.name.replace(/^Admin: /, "(admin) ")}`)].join("\n");
  }
  const args = line.trim().slice(word.length).trim();
  try {
    let values: Fields = command.chat.parse(args);
    let state: Fields | undefined;
    // Multi-step commands take every step's values from the one chat line.
    for (let step = 0; step < 3; step += 1) {
      const outcome = await command.run(caller, values, state);
      if ("note" in outcome) return outcome.note;
      state = outcome.state;
      values = command.chat.parse(args);
    }
    return "That command needs more than a chat line can give; use your client's ad-hoc commands.";
  } catch (error) {
    return `${asGatewayError(error).message}\nUsage: ${command.chat.usage}`;
  }
}

// A command a user or admin can run through XEP-0050 ad-hoc commands or by chatting with the
// transport's JID. Both front ends call the same `run`.
import type { Fields, FormField } from "../../../transport/contract.js";
import type { BareJid } from "../../../xmpp/jid.js";

export interface CommandCaller {
  user: BareJid;
  isAdmin: boolean;
  registered: boolean;
}

/** A field of a command's form: a registration form's kinds, a JID (jid-single), and lists
 *  (XEP-0004 jid-multi, text-multi: one value a line, in `value` and in what is submitted). */
export interface CommandField extends Omit<FormField, "type"> {
  type: FormField["type"] | "jid-single" | "jid-multi" | "text-multi";
}

export interface CommandForm {
  title: string;
  instructions?: string;
  fields: CommandField[];
}

/** What a step returns: a sentence for the user, another form to fill in, or a result form (the
 *  command is complete; XEP-0133's answers are forms of type "result"). */
export type CommandOutcome = { note: string } | { form: CommandForm; state?: Fields } | { result: CommandForm; note?: string };

export interface Command {
  node: string;
  name: string;
  /** Only admins see and run it. */
  admin?: boolean;
  /** Only registered users see and run it. */
  registeredOnly?: boolean;
  /** The FORM_TYPE of its forms (default: urn:switchboard:command:NODE). */
  formType?: string;
  /** The form to show first; none means the command runs at once. */
  form?(caller: CommandCaller): Promise<CommandForm>;
  /** `state` carries what earlier steps of a multi-step command collected. */
  run(caller: CommandCaller, values: Fields, state?: Fields): Promise<CommandOutcome>;
  /** How to run it by chat; none: only as an ad-hoc command. */
  chat?: {
    /** The word that starts it in a chat, e.g. "add". */
    keyword: string;
    usage: string;
    /** Chat arguments (after the keyword) as form values. */
    parse(args: string): Fields;
  };
}

export function visibleTo(command: Command, caller: CommandCaller): boolean {
  if (command.admin && !caller.isAdmin) return false;
  if (command.registeredOnly && !caller.registered) return false;
  return true;
}

/** `key=value key2="two words"` as fields; a bare word goes to `fallback`. */
export function keyValues(args: string, fallback?: string): Fields {
  const fields: Fields = {};
  const words: string[] = [];
  for (const match of args.matchAll(/(\w[\w-]*)=("([^"]*)"|\S*)|"([^"]*)"|(\S+)/g)) {
    if (match[1]) fields[match[1]] = match[3] ?? match[2] ?? "";
    else words.push(match[4] ?? match[5] ?? "");
  }
  if (fallback && words.length > 0) fields[fallback] = words.join(" ");
  return fields;
}

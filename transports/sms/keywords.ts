// STOP/START/HELP replies: carriers and providers act on them, so the user must see them for what they are.

export type KeywordKind = "stop" | "start" | "help";

// The words Twilio's default opt-out handling recognizes (Telnyx's default list is much the same).
const WORDS: Record<KeywordKind, string[]> = {
  stop: ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"],
  start: ["START", "YES", "UNSTOP", "OPTIN"],
  help: ["HELP", "INFO"],
};

/** Twilio says which keyword it acted on (OptOutType); the body is the fallback for accounts without Advanced Opt-Out and for providers that do not say. */
export function keywordOf(body: string, optOutType?: string): KeywordKind | undefined {
  const told = optOutType?.trim().toLowerCase();
  if (told === "stop" || told === "start" || told === "help") return told;
  const word = body
    .trim()
    .replace(/[.!]+$/, "")
    .toUpperCase();
  return (Object.keys(WORDS) as KeywordKind[]).find((kind) => WORDS[kind].includes(word));
}

const EXPLANATIONS: Record<KeywordKind, string> = {
  stop: "This contact replied STOP: they opted out of texts from your number, and nothing you send reaches them until they reply START.",
  start: "This contact replied START: they opted back in, and your texts reach them again.",
  help: "This contact replied HELP: they asked what these texts are; your provider may have answered them with your number's help message.",
};

/** The body as the user sees it: what the contact wrote, then what it means. */
export function explainKeyword(body: string, kind: KeywordKind | undefined): string {
  return kind ? `${body.trim()}\n[${EXPLANATIONS[kind]}]` : body;
}

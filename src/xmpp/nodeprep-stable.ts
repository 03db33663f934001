// Whether the server's nodeprep leaves a JID local part as it is (RFC 3920 appendix A, a stringprep
// profile: RFC 3454). Servers prepare every JID they route (Prosody in stanza_router.lua), so a local
// part nodeprep would change comes back as another one, and one it refuses cannot be routed at all.

// Printable ASCII that nodeprep keeps: all but the space, " & ' / : < > @ (which XEP-0106 escapes)
// and the capitals, which it folds. Addresses are mostly this, and need no more checks.
const KEPT_ASCII = /^[!#-%(-.0-9;=?[-~]*$/;
// Beyond ASCII, only letters, decimal digits and combining marks count as kept: nodeprep removes or
// refuses much else (spaces, controls, private use, joiners), and no address needs more. This is
// also PRECIS's LetterDigits, for servers that prepare JIDs by RFC 7622 instead.
const KEPT_OTHER = /^[!#-%(-.0-9;=?[-~\p{L}\p{Nd}\p{Mn}\p{Mc}]*$/u;
// Mapped to nothing by stringprep's table B.1 (soft hyphen, joiners, variation selectors, ...).
const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
// Stringprep's bidi rule (section 6): a string holding a right-to-left character may hold no
// left-to-right one, and an escaped address holds the Latin of \40 and of most domains. These are the
// blocks Unicode keeps for right-to-left scripts: servers take even their unassigned code points as
// right-to-left (Prosody's ICU does), so ranges serve better than the scripts a runtime knows of.
const RIGHT_TO_LEFT = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\u{10800}-\u{10fff}\u{1e800}-\u{1efff}]/u;

/** Whether nodeprep gives `local` back unchanged. It may answer false for a few local parts that
 *  nodeprep would keep (it errs that way): true is a promise, false only "do not rely on it". */
export function isNodeprepStable(local: string): boolean {
  if (KEPT_ASCII.test(local)) return true;
  if (!KEPT_OTHER.test(local) || IGNORABLE.test(local) || RIGHT_TO_LEFT.test(local)) return false;
  if (local.normalize("NFKC") !== local) return false;
  // Full case folding (table B.2), which JavaScript lacks: a character that upper-casing and
  // lower-casing again changes (ß to ss, ς to σ) is one it folds, unless NFKC, which nodeprep applies
  // next, puts it back (ǰ). Character by character, because lower-casing a whole string writes a
  // final σ as ς. Dotless ı upper-cases to I, but folding keeps it.
  for (const char of local) {
    if (char.toLowerCase() !== char) return false;
    if (char !== "ı" && char.toUpperCase().toLowerCase().normalize("NFKC") !== char) return false;
  }
  return true;
}

// Which inbound texts are group texts, and which group: a text that names more than one party
// besides the user's number (its sender and the other recipients) belongs to the group of exactly
// those numbers, whichever of them wrote it and in whatever order the provider listed them.
import type { AddressCodec, InboundGroup } from "../../src/transport/contract.js";

/** The key of the group of `own` (the user's number) and `others`, whatever their order: a group
 *  reached through another of the user's numbers is another group. */
export function groupKeyOf(own: string, others: Iterable<string>): string {
  return `sms:${[own, ...[...new Set(others)].sort()].join(",")}`;
}

/** The group a text belongs to, or undefined for a one-to-one text. `from` and `own` are canonical. */
export function groupOf(codec: AddressCodec, from: string, own: string, recipients: readonly string[] | undefined): { group?: InboundGroup; dropped: number } {
  if (!recipients || recipients.length === 0) return { dropped: 0 };
  const others = new Set<string>([from]);
  let dropped = 0;
  for (const listed of recipients) {
    try {
      others.add(codec.parse(listed));
    } catch {
      dropped += 1;
    }
  }
  others.delete(own);
  if (others.size < 2) return { dropped };
  const members = [...others];
  return {
    group: {
      key: groupKeyOf(own, members),
      participants: [...members.filter((number) => number === from), ...members.filter((number) => number !== from).sort()].map((address) => ({
        address,
        name: address,
        field: address === from ? "from" : "to",
      })),
    },
    dropped,
  };
}

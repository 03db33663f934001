// XEP-0030 on the transport's own JID and on its contact JIDs: who we are and what we really do.
import { gatewayError } from "../../errors.js";
import type { Capabilities } from "../../transport/contract.js";
import { xml, type Element } from "../../xmpp/xml.js";
import { commandItems, NS_COMMANDS, type CommandSet } from "./commands/adhoc.js";
import type { Gateway } from "../gateway.js";
import { NS } from "../gateway.js";
import { FEATURE_NS } from "../features/message-features.js";
import type { Router } from "../router.js";

const SERVICE_FEATURES = [NS.discoInfo, NS.discoItems, NS.register, NS.gateway, NS.version, NS.ping, NS.data, NS_COMMANDS, "vcard-temp"];
const CONTACT_FEATURES = [NS.discoInfo, NS.ping, NS.nick, "vcard-temp"];

/** What the network carries, as features: receipts only where it reports delivery, files only where
 *  it carries them, corrections, reactions, retractions and chat states only where the transport
 *  does something with them (docs/message-features.md). */
const carried = (capabilities: Capabilities): string[] => [
  ...(capabilities.receipts ? [NS.receipts] : []),
  ...(capabilities.attachments ? [NS.oob] : []),
  ...(capabilities.corrections !== "none" ? [FEATURE_NS.correction] : []),
  ...(capabilities.reactions !== "none" ? [FEATURE_NS.reactions] : []),
  ...((capabilities.retractions ?? "none") !== "none" ? [FEATURE_NS.retraction] : []),
  ...(capabilities.chatStates ? [FEATURE_NS.chatStates] : []),
];

const features = (names: string[]): Element[] => [...new Set(names)].sort().map((name) => xml("feature", { var: name }));

export function registerDisco(router: Router, gateway: Gateway, commands: CommandSet): void {
  router.iq(
    "get",
    NS.discoInfo,
    "query",
    ({ payload, target, to }) => {
      const node = payload.attrs.node;
      if (target === "service" && node) {
        const command = commands.commands.find((candidate) => candidate.node === node);
        if (node !== NS_COMMANDS && !command) throw gatewayError("item-not-found", `There is no disco node "${node}" here.`);
        return xml(
          "query",
          { xmlns: NS.discoInfo, node },
          xml("identity", { category: "automation", type: command ? "command-node" : "command-list", name: command?.name ?? "Commands" }),
          ...features(command ? [NS_COMMANDS, NS.data] : []),
        );
      }
      if (node) throw gatewayError("item-not-found", `There is no disco node "${node}" here.`);
      if (target === "service") {
        return xml(
          "query",
          { xmlns: NS.discoInfo },
          xml("identity", { category: "gateway", type: gateway.transport.identityType, name: gateway.transport.displayName }),
          ...features([...SERVICE_FEATURES, ...carried(gateway.transport.capabilities)]),
        );
      }
      // Answering for a contact also checks that its address is valid.
      const address = gateway.contacts.addressOf(to.local);
      return xml(
        "query",
        { xmlns: NS.discoInfo },
        xml("identity", { category: "client", type: "pc", name: address }),
        ...features([...CONTACT_FEATURES, ...carried(gateway.transport.capabilities)]),
      );
    },
    ["service", "contact"],
  );

  router.iq(
    "get",
    NS.discoItems,
    "query",
    async ({ payload, target, to, from }) => {
      const node = payload.attrs.node;
      if (target === "contact") gateway.contacts.addressOf(to.local);
      if (node === NS_COMMANDS && target === "service")
        return xml("query", { xmlns: NS.discoItems, node }, ...(await commandItems(commands, gateway.domain, from.bare)));
      if (node) throw gatewayError("item-not-found", `There is no disco node "${node}" here.`);
      return xml("query", { xmlns: NS.discoItems });
    },
    ["service", "contact"],
  );
}

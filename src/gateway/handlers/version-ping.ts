// XEP-0092 software version and XEP-0199 ping, on the service and on contacts.
import { VERSION } from "../../version.js";
import { xml } from "../../xmpp/xml.js";
import type { Gateway } from "../gateway.js";
import { NS } from "../gateway.js";
import type { Router } from "../router.js";

export function registerVersionAndPing(router: Router, gateway: Gateway): void {
  router.iq("get", NS.version, "query", () => xml("query", { xmlns: NS.version }, xml("name", {}, "Switchboard"), xml("version", {}, VERSION)));
  router.iq(
    "get",
    NS.ping,
    "ping",
    ({ target, to }) => {
      if (target === "contact") gateway.contacts.addressOf(to.local);
    },
    ["service", "contact"],
  );
}

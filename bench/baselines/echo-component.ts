// Baseline for the XMPP leg: a bare XEP-0114 component that sends every chat message straight
// back to its sender, with nothing else (no store, no queue, no confirmation).
import { Component } from "@xmpp/component-core";
import { xml, type Element } from "../../src/xmpp/xml.js";
import { cpuMs, inputOf, report } from "./input.js";

const input = inputOf<{ port: number; domain: string; secret: string }>();
const service = `xmpp://127.0.0.1:${input.port}`;
const entity = new Component({ service, domain: input.domain });
let echoed = 0;
entity.on("error", () => undefined);
entity.on("open", (header: Element) => {
  entity.authenticate(header.attrs.id ?? "", input.secret).catch((error: unknown) => entity.emit("error", error));
});
entity.on("stanza", (stanza: Element) => {
  const body = stanza.name === "message" ? stanza.getChildText("body") : null;
  if (body === null || !stanza.attrs.from) return;
  echoed += 1;
  void entity.send(xml("message", { from: stanza.attrs.to, to: stanza.attrs.from, type: "chat", id: stanza.attrs.id }, xml("body", {}, body)));
});
const online = new Promise<void>((resolve) => entity.once("online", () => resolve()));
await entity.connect(service);
entity.socket?.setNoDelay(true);
await entity.open({ domain: input.domain });
await online;
const cpuAtReady = cpuMs();
report({ ready: true });
process.once("SIGTERM", () => {
  report({ echoed, cpuMs: cpuMs() - cpuAtReady });
  entity.socket?.destroy();
  process.exit(0);
});

// Baseline for SMS webhook → XMPP: a bare Node HTTP server that reads the form, checks the
// X-Twilio-Signature with the twilio SDK (as the gateway does) and answers empty TwiML.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import twilio from "twilio";
import { cpuMs, inputOf, report } from "./input.js";

const input = inputOf<{ authToken: string }>();
let answered = 0;
let refused = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
    const signature = req.headers["x-twilio-signature"];
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${req.url ?? ""}`;
    if (typeof signature !== "string" || !twilio.validateRequest(input.authToken, signature, url, params)) {
      refused += 1;
      res.writeHead(403).end();
      return;
    }
    answered += 1;
    res.writeHead(200, { "content-type": "text/xml; charset=utf-8" });
    res.end('<?xml version="1.0" encoding="UTF-8"?><Response/>');
  });
});
let cpuAtReady = 0;
server.listen(0, "127.0.0.1", () => {
  cpuAtReady = cpuMs();
  report({ ready: true, port: (server.address() as AddressInfo).port });
});
process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  report({ answered, refused, cpuMs: cpuMs() - cpuAtReady });
});

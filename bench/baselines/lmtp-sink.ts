// Baseline for LMTP → XMPP: a bare smtp-server LMTP listener that reads each mail and parses it
// with mailparser (what the gateway's listener uses), then answers 250 for every recipient.
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { cpuMs, inputOf, report } from "./input.js";

inputOf<Record<string, never>>();
let answered = 0;
let refused = 0;
const server = new SMTPServer({
  lmtp: true,
  secure: false,
  authOptional: true,
  disabledCommands: ["AUTH", "STARTTLS"],
  disableReverseLookup: true,
  logger: false,
  onData(stream, session, callback) {
    simpleParser(stream, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true }).then(
      () => {
        answered += session.envelope.rcptTo.length;
        callback(
          null,
          session.envelope.rcptTo.map(() => "2.1.5 Parsed"),
        );
      },
      (error: Error) => {
        refused += session.envelope.rcptTo.length;
        callback(Object.assign(error, { responseCode: 554 }));
      },
    );
  },
});
let cpuAtReady = 0;
server.listen(0, "127.0.0.1", () => {
  cpuAtReady = cpuMs();
  report({ ready: true, port: (server.server.address() as AddressInfo).port });
});
process.once("SIGTERM", () => {
  server.close();
  report({ answered, refused, cpuMs: cpuMs() - cpuAtReady });
  process.exit(0);
});

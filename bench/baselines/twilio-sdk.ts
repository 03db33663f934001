// Baseline for XMPP → SMS: the twilio SDK alone, with its own HTTP client, sending the same texts
// to the same stand-in with the gateway's per-request settings (20 s timeout, no auto-retry). The
// gateway sends through an HTTP client of its own (transports/sms/providers/twilio/http-client.ts);
// `node dist/bench/twilio-client.js` compares the two clients alone.
import twilio from "twilio";
import { stockClientAt } from "../twilio-stock-client.js";
import { nowMs } from "../stats.js";
import { tokenOf } from "../tally.js";
import { inParallel } from "../parallel.js";
import { cpuMs, inputOf, report } from "./input.js";

const input = inputOf<{
  baseUrl: string;
  accountSid: string;
  authToken: string;
  from: string;
  peers: string[];
  count: number;
  tag: number;
  concurrency: number;
  statusCallback: string;
}>();
const client = twilio(input.accountSid, input.authToken, { httpClient: stockClientAt(input.baseUrl, 20_000), autoRetry: false });
const cpuAtStart = cpuMs();
const startedAt = nowMs();
let failed = 0;
await inParallel(input.count, input.concurrency, async (index) => {
  try {
    await client.messages.create({
      to: input.peers[index % input.peers.length]!,
      from: input.from,
      body: `Bench ${tokenOf(input.tag, index)}`,
      statusCallback: input.statusCallback,
    });
  } catch {
    failed += 1;
  }
});
report({ startedAt, finishedAt: nowMs(), failed, cpuMs: cpuMs() - cpuAtStart });

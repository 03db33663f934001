// Baseline for XMPP → SMS: the twilio SDK alone sending the same texts to the same stand-in, with
// the same per-request settings the gateway uses (its base-URL HTTP client, no auto-retry).
import twilio from "twilio";
import { createBaseUrlRequestClient } from "../../transports/sms/twilio-base-url.js";
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
const client = twilio(input.accountSid, input.authToken, { httpClient: createBaseUrlRequestClient(input.baseUrl, 20_000), autoRetry: false });
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

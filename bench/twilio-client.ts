// What the gateway's HTTP client for the Twilio SDK (transports/sms/providers/twilio/http-client.ts)
// saves against the SDK's own (axios): the same texts sent through the same SDK to the Twilio
// stand-in, 50 at a time, by a child process per round (so that only the client's CPU is counted),
// the two clients in alternating rounds. Prints CPU per text and the gateway/SDK ratio.
//   npx tsc -p . --outDir .build-perf && node .build-perf/bench/twilio-client.js
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import twilio from "twilio";
import { createTwilioHttpClient } from "../transports/sms/providers/twilio/http-client.js";
import { TwilioStandin } from "../test/support/twilio-standin.js";
import { inParallel } from "./parallel.js";
import { stockClientAt } from "./twilio-stock-client.js";

const TEXTS = 4_000;
const CONCURRENCY = 50;
const ROUNDS = 3;
const FROM = "+14155551000";

type Client = "sdk" | "gateway";

async function sendAll(client: Client, baseUrl: string, sid: string, token: string): Promise<void> {
  const httpClient = client === "sdk" ? stockClientAt(baseUrl, 20_000) : createTwilioHttpClient(baseUrl, 20_000);
  const api = twilio(sid, token, { httpClient, autoRetry: false });
  const cpu = process.cpuUsage();
  await inParallel(TEXTS, CONCURRENCY, async (index) => {
    await api.messages.create({ to: `+1415555${2000 + (index % 50)}`, from: FROM, body: `Bench text ${index}`, statusCallback: "http://127.0.0.1:9/status" });
  });
  const used = process.cpuUsage(cpu);
  console.log(JSON.stringify({ cpuUsPerText: (used.user + used.system) / TEXTS }));
}

async function main(): Promise<void> {
  const standin = new TwilioStandin();
  await standin.start();
  const account = standin.addAccount();
  standin.addNumber(account, FROM);
  const self = fileURLToPath(import.meta.url);
  const results: Record<Client, number[]> = { sdk: [], gateway: [] };
  try {
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const client of (round % 2 === 0 ? ["sdk", "gateway"] : ["gateway", "sdk"]) as Client[]) {
        const child = await runChild(self, [client, standin.baseUrl, account.sid, account.authToken]);
        results[client].push(child);
        console.log(`round ${round + 1}, ${client === "sdk" ? "SDK's own client" : "gateway's client"}: ${(child / 1000).toFixed(3)} ms CPU per text`);
      }
    }
  } finally {
    await standin.stop();
  }
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const sdk = median(results.sdk);
  const gateway = median(results.gateway);
  console.log(
    `median CPU per text: SDK's own client ${(sdk / 1000).toFixed(3)} ms, gateway's ${(gateway / 1000).toFixed(3)} ms, ratio ${(gateway / sdk).toFixed(2)}`,
  );
}

/** The stand-in answers from this process, so the child runs without blocking it. */
function runChild(script: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, ...args], { maxBuffer: 1 << 20 }, (error, stdout) => {
      if (error) return reject(error);
      resolve((JSON.parse(stdout.trim().split("\n").at(-1)!) as { cpuUsPerText: number }).cpuUsPerText);
    });
  });
}

const [client, baseUrl, sid, token] = process.argv.slice(2);
if (client === "sdk" || client === "gateway") await sendAll(client, baseUrl!, sid!, token!);
else await main();

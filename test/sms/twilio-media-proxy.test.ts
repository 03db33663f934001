// With an API proxy as apiBaseUrl, an incoming MMS's picture (Twilio always names it on
// https://api.twilio.com) is fetched through the proxy, as the API calls are; the proxy here forwards
// to the Twilio stand-in, and a second loopback server plays Twilio's media CDN.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Harness } from "../support/harness.js";
import { newSid, startTwilioStandin, type StandinAccount, type TwilioStandin } from "../support/twilio-standin.js";
import type { TestClient } from "../support/xmpp-client.js";
import { bodyFrom, incomingUrl, joinSms, phoneJid, startSmsGateway } from "./sms-harness.js";

const ROMEO = "+14155550123";
const NUMBER = "+14155550100";
const PREFIX = "/twilio";

interface Seen {
  path: string;
  authorization: string | undefined;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const seen = (req: IncomingMessage): Seen => ({ path: req.url ?? "", authorization: req.headers.authorization });

let twilio: TwilioStandin;
let operator: StandinAccount;
let h: Harness;
let juliet: TestClient;
let proxy: Server;
let cdn: Server;
let proxyUrl = "";
let cdnUrl = "";
const proxied: Seen[] = [];
const cdnSeen: Seen[] = [];
/** Where the proxy sends the next media request instead of the stand-in, as Twilio redirects to its CDN. */
let redirectMediaTo: string | undefined;
const CDN_PICTURE = Buffer.from("\x89PNG from the media CDN");

before(async () => {
  twilio = await startTwilioStandin();
  operator = twilio.addAccount();
  twilio.addNumber(operator, NUMBER);
  const standin = new URL(twilio.baseUrl);
  // A proxy in front of Twilio that serves it under a path of its own.
  proxy = createServer((req, res) => {
    proxied.push(seen(req));
    const path = (req.url ?? "").startsWith(PREFIX) ? (req.url ?? "").slice(PREFIX.length) : "";
    if (!path) return void res.writeHead(404).end();
    if (redirectMediaTo && path.includes("/Media/")) {
      res.writeHead(302, { location: redirectMediaTo }).end();
      redirectMediaTo = undefined;
      return;
    }
    const forward = request(
      { host: standin.hostname, port: standin.port, method: req.method, path, headers: { ...req.headers, host: standin.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => res.writeHead(502).end());
    req.pipe(forward);
  });
  cdn = createServer((req, res) => {
    cdnSeen.push(seen(req));
    res.writeHead(200, { "content-type": "image/png" }).end(CDN_PICTURE);
  });
  proxyUrl = await listen(proxy);
  cdnUrl = await listen(cdn);
  try {
    h = await startSmsGateway(
      twilio,
      { apiBaseUrl: `${proxyUrl}${PREFIX}`, operator: { accountSid: operator.sid, authToken: operator.authToken, numbers: [NUMBER] } },
      {},
    );
  } catch (error) {
    await Promise.all([close(proxy), close(cdn)]);
    throw error;
  }
  for (const number of operator.numbers.values()) number.smsUrl = incomingUrl(h);
  juliet = await h.login("juliet");
  await joinSms(juliet, { number: NUMBER });
});

after(async () => {
  await h?.stop();
  await twilio?.stop();
  await Promise.all([close(proxy), close(cdn)]);
});

/** Posts an MMS webhook as Twilio does, signed, its media named at `mediaUrl`. */
async function mms(body: string, mediaUrl: string): Promise<number> {
  const messageSid = newSid("MM");
  const params = {
    MessageSid: messageSid,
    SmsMessageSid: messageSid,
    AccountSid: operator.sid,
    From: ROMEO,
    To: NUMBER,
    Body: body,
    NumMedia: "1",
    MediaUrl0: mediaUrl,
    MediaContentType0: "image/png",
    ApiVersion: "2010-04-01",
  };
  return (await twilio.postSigned(incomingUrl(h), operator.authToken, params)).status;
}

/** A picture the stand-in holds for an MMS, and the URL Twilio's webhook names it by. */
function twilioMedia(data: Buffer): { path: string; url: string } {
  const path = new URL(twilio.storeMedia(operator.sid, newSid("MM"), "image/png", data)).pathname;
  return { path, url: `https://api.twilio.com${path}` };
}

async function arrived(body: string): Promise<{ text: string; picture: Buffer | undefined }> {
  const message = await juliet.waitFor((stanza) => bodyFrom(phoneJid(ROMEO))(stanza) && (stanza.getChildText("body") ?? "").startsWith(body), 10_000);
  const url = message.getChild("x", "jabber:x:oob")?.getChildText("url");
  const picture = url ? Buffer.from(await (await fetch(url)).arrayBuffer()) : undefined;
  return { text: message.getChildText("body") ?? "", picture };
}

test("an MMS picture Twilio names on api.twilio.com is fetched through the configured API proxy, with the account's credentials", async () => {
  const picture = Buffer.from("\x89PNG through the proxy");
  const media = twilioMedia(picture);
  assert.equal(await mms("Through the proxy", media.url), 200);
  const { text, picture: got } = await arrived("Through the proxy");
  assert.doesNotMatch(text, /could not be fetched/);
  assert.deepEqual(got, picture);
  const request = proxied.find((entry) => entry.path === `${PREFIX}${media.path}`);
  assert.ok(request, "the proxy was asked for the picture under its base path");
  assert.equal(request.authorization, `Basic ${Buffer.from(`${operator.sid}:${operator.authToken}`).toString("base64")}`);
});

test("a picture the proxy redirects to a media CDN is fetched there without the account's credentials", async () => {
  redirectMediaTo = `${cdnUrl}/media/signed-picture`;
  const media = twilioMedia(Buffer.from("unused: the CDN answers"));
  assert.equal(await mms("Through the CDN", media.url), 200);
  const { text, picture } = await arrived("Through the CDN");
  assert.doesNotMatch(text, /could not be fetched/);
  assert.deepEqual(picture, CDN_PICTURE);
  assert.ok(proxied.some((entry) => entry.path === `${PREFIX}${media.path}`));
  const fetched = cdnSeen.find((entry) => entry.path === "/media/signed-picture");
  assert.ok(fetched, "the CDN was asked for the picture");
  assert.equal(fetched.authorization, undefined);
});

test("a picture named on any other host is still not fetched", async () => {
  const before = cdnSeen.length;
  assert.equal(await mms("Elsewhere", `${cdnUrl}/2010-04-01/Accounts/${operator.sid}/Messages/MM0/Media/ME0`), 200);
  const { text, picture } = await arrived("Elsewhere");
  assert.match(text, /could not be fetched from Twilio/);
  assert.equal(picture, undefined);
  assert.equal(cdnSeen.length, before, "nothing was asked of the other host");
});

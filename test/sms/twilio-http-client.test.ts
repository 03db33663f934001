// The gateway's HTTP client for the Twilio SDK must put on the wire what the SDK's own client puts
// there: both are aimed at one loopback server that records each request.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import twilio from "twilio";
import { createTwilioHttpClient } from "../../transports/sms/providers/twilio/http-client.js";
// The SDK's own client, aimed at the same server.
import { stockClientAt } from "../../bench/twilio-stock-client.js";

const SID = `AC${"1".repeat(32)}`;
const TOKEN = "secret-token";

interface Seen {
  method: string;
  path: string;
  authorization: string | undefined;
  contentType: string | undefined;
  accept: string | undefined;
  userAgent: string | undefined;
  body: string;
}

async function recorder(answer: (request: IncomingMessage) => { status: number; body: string }) {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      seen.push({
        method: request.method ?? "",
        path: request.url ?? "",
        authorization: request.headers.authorization,
        contentType: request.headers["content-type"],
        accept: request.headers.accept,
        userAgent: request.headers["user-agent"],
        body,
      });
      const { status, body: out } = answer(request);
      response.writeHead(status, { "content-type": "application/json" });
      response.end(out);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  return { seen, base, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const MESSAGE = JSON.stringify({ sid: `SM${"2".repeat(32)}`, status: "queued", num_segments: "1", body: "hi" });

test("a text with attachments goes out as the SDK's own client sends it", async () => {
  const server = await recorder(() => ({ status: 201, body: MESSAGE }));
  try {
    const params = {
      to: "+14155552000",
      from: "+14155551000",
      body: "Hé & = + ; 🙂 <b>",
      mediaUrl: ["https://media.example/a?x=1&y=2", "https://media.example/b"],
      statusCallback: "https://gw.example/twilio/status?k=v",
    };
    const ours = await twilio(SID, TOKEN, { httpClient: createTwilioHttpClient(server.base, 5_000), autoRetry: false }).messages.create(params);
    const theirs = await twilio(SID, TOKEN, { httpClient: stockClientAt(server.base, 5_000), autoRetry: false }).messages.create(params);
    assert.equal(ours.sid, `SM${"2".repeat(32)}`);
    assert.equal(theirs.sid, ours.sid);
    const [mine, stock] = server.seen;
    assert.ok(mine && stock);
    assert.equal(mine.path, `/api/2010-04-01/Accounts/${SID}/Messages.json`);
    for (const field of ["method", "path", "authorization", "contentType", "accept", "userAgent"] as const) assert.equal(mine[field], stock[field], field);
    // The same fields with the same values (the encoders may escape a character differently).
    assert.deepEqual([...new URLSearchParams(mine.body)], [...new URLSearchParams(stock.body)]);
  } finally {
    await server.close();
  }
});

test("a listing's query goes out as the SDK's own client sends it", async () => {
  const page = JSON.stringify({ conversations: [], meta: { page: 0, page_size: 50, key: "conversations" } });
  const server = await recorder(() => ({ status: 200, body: page }));
  try {
    const address = "+14155552000";
    await twilio(SID, TOKEN, { httpClient: createTwilioHttpClient(server.base, 5_000), autoRetry: false }).conversations.v1.participantConversations.list({
      address,
      limit: 5,
    });
    await twilio(SID, TOKEN, { httpClient: stockClientAt(server.base, 5_000), autoRetry: false }).conversations.v1.participantConversations.list({
      address,
      limit: 5,
    });
    const [mine, stock] = server.seen;
    assert.ok(mine && stock);
    assert.equal(mine.method, "GET");
    assert.deepEqual(new URL(mine.path, "http://x").searchParams.get("Address"), address);
    assert.equal(new URL(mine.path, "http://x").pathname, new URL(stock.path, "http://x").pathname);
    assert.deepEqual([...new URL(mine.path, "http://x").searchParams].sort(), [...new URL(stock.path, "http://x").searchParams].sort());
  } finally {
    await server.close();
  }
});

test("Twilio's error answer reaches the caller as the SDK's RestException, with its code", async () => {
  const refusal = JSON.stringify({
    code: 21610,
    message: "Attempt to send to unsubscribed recipient",
    more_info: "https://www.twilio.com/docs/errors/21610",
    status: 400,
  });
  const server = await recorder(() => ({ status: 400, body: refusal }));
  try {
    const client = twilio(SID, TOKEN, { httpClient: createTwilioHttpClient(server.base, 5_000), autoRetry: false });
    await assert.rejects(client.messages.create({ to: "+14155552000", from: "+14155551000", body: "x" }), (error: unknown) => {
      assert.ok(error instanceof twilio.RestException);
      assert.equal(error.code, 21610);
      assert.equal(error.status, 400);
      return true;
    });
  } finally {
    await server.close();
  }
});

test("an endless answer is cut off with an error instead of filling the gateway's memory", async () => {
  const server = await recorder(() => ({ status: 201, body: `{"sid":"${"x".repeat(9 * 1024 * 1024)}"}` }));
  try {
    const client = twilio(SID, TOKEN, { httpClient: createTwilioHttpClient(server.base, 5_000), autoRetry: false });
    await assert.rejects(client.messages.create({ to: "+14155552000", from: "+14155551000", body: "x" }), /larger than/);
  } finally {
    await server.close();
  }
});

test("a request the client does not cover itself still goes out, through the SDK's client", async () => {
  const server = await recorder(() => ({ status: 200, body: "{}" }));
  try {
    const client = createTwilioHttpClient(server.base, 5_000);
    // A JSON body: the SDK's own client sends it.
    const answer = await client.request({
      method: "post",
      uri: "https://api.twilio.com/v1/Things",
      username: SID,
      password: TOKEN,
      headers: { "Content-Type": "application/json" },
      data: { nested: { a: 1 } },
    });
    assert.equal(answer.statusCode, 200);
    assert.equal(server.seen[0]?.path, "/api/v1/Things");
    assert.deepEqual(JSON.parse(server.seen[0]?.body ?? ""), { nested: { a: 1 } });
  } finally {
    await server.close();
  }
});

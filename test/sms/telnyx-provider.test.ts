// The Telnyx provider on its own: reading Telnyx's documented event shapes, and where it fetches media from.
import { test } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { ProviderError } from "../../transports/sms/provider.js";
import { telnyxAccount } from "../../transports/sms/providers/telnyx/accounts.js";
import { createTelnyxProvider } from "../../transports/sms/providers/telnyx/provider.js";

const log = pino({ level: "silent" });
const provider = createTelnyxProvider({ apiBaseUrl: "http://127.0.0.1:8099/v2", allowPrivateMediaHosts: false }, log);
const account = telnyxAccount("KEY0123", Buffer.alloc(32, 7).toString("base64"));
const request = (event: unknown) => ({ url: "https://gw.example.org/sms/sms.example.org/incoming", headers: {}, body: JSON.stringify(event) });

// Shaped as Telnyx's documentation shows a message.received event.
const received = {
  data: {
    record_type: "event",
    id: "bf6307bd-884d-4c1f-b6ea-c62b8c495d3c",
    event_type: "message.received",
    occurred_at: "2019-01-23T18:10:02.574Z",
    payload: {
      record_type: "message",
      direction: "inbound",
      id: "7ee4241c-f127-47e5-9c34-3aac291f8058",
      type: "MMS",
      messaging_profile_id: "0f512bda-ae1e-4597-8e11-e5f5686b97d3",
      from: { phone_number: "+18665550001", carrier: "T-MOBILE USA, INC.", line_type: "Wireless" },
      to: [{ phone_number: "+18445550001", status: "webhook_delivered", carrier: "TELNYX LLC", line_type: "VoIP" }],
      text: "Hello, World!",
      media: [{ url: "https://media.example.net/abc.jpg", content_type: "image/jpeg", size: 1024, hash_sha256: "00" }],
    },
  },
  meta: { attempt: 1, delivered_to: "https://gw.example.org/sms/sms.example.org/incoming" },
};

test("message.received is an inbound text to the number it names, with its media", () => {
  assert.deepEqual(provider.claim(request(received)), { number: "+18445550001" });
  assert.deepEqual(provider.read(request(received), "status"), {
    kind: "incoming",
    text: {
      id: "7ee4241c-f127-47e5-9c34-3aac291f8058",
      from: "+18665550001",
      to: "+18445550001",
      body: "Hello, World!",
      media: [{ url: "https://media.example.net/abc.jpg", mediaType: "image/jpeg" }],
    },
  });
});

test("message.finalized names the gateway's number as sender, and its status and error code become a delivery status", () => {
  const finalized = (status: string, errors: unknown[] = []) => ({
    data: {
      event_type: "message.finalized",
      id: "e1",
      payload: { direction: "outbound", id: "m1", from: { phone_number: "+18445550001" }, to: [{ phone_number: "+18665550001", status }], errors },
    },
  });
  assert.deepEqual(provider.claim(request(finalized("delivered"))), { number: "+18445550001" });
  assert.deepEqual(provider.read(request(finalized("delivered")), "incoming"), {
    kind: "status",
    update: { id: "m1", state: "delivered", detail: "delivered" },
  });
  assert.deepEqual(provider.read(request(finalized("delivery_failed", [{ code: "40001", title: "Not routable" }])), "status"), {
    kind: "status",
    update: { id: "m1", state: "failed", detail: "delivery_failed", errorCode: "40001" },
  });
  assert.equal((provider.read(request(finalized("delivery_unconfirmed")), "status") as { update: { state: string } }).update.state, "progress");
});

test("an event without an id, sender or recipient is malformed; another event type is not a message; garbage claims nothing", () => {
  const broken = structuredClone(received);
  broken.data.payload.id = "";
  assert.throws(() => provider.read(request(broken), "incoming"), ProviderError);
  assert.deepEqual(provider.read(request({ data: { event_type: "call.initiated", payload: {} } }), "incoming"), { kind: "other", type: "call.initiated" });
  assert.deepEqual(provider.claim({ url: "", headers: {}, body: "not json" }), {});
});

test("media on a loopback or private address is not fetched, and that is not worth retrying", async () => {
  await assert.rejects(provider.fetchMedia(account, "http://127.0.0.1:8099/media/x", 1024), (error: unknown) => {
    assert.ok(error instanceof ProviderError);
    assert.equal(error.options.temporary, false);
    assert.match(error.message, /loopback/);
    return true;
  });
});

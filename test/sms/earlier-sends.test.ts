// Which of the provider's listed texts stands for a text of a message an earlier process may have
// sent: the rules of transports/sms/earlier-sends.ts, on a list given here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { earlierSends } from "../../transports/sms/earlier-sends.js";
import type { ListedText } from "../../transports/sms/provider.js";
import type { SentPart } from "../../transports/sms/status.js";

const account = { id: "AC1", credentials: {} };
const conversation = { from: "+14155550100", to: "+14155550123" };
const written = new Date("2026-11-30T12:00:00Z");
const at = (offsetMs: number): Date => new Date(written.getTime() + offsetMs);

function setup(listed: ListedText[], records: Record<string, SentPart> = {}) {
  let calls = 0;
  let failing = false;
  const provider = {
    async recentTexts() {
      calls += 1;
      if (failing) throw new Error("Twilio answered 503");
      return listed;
    },
  };
  const find = earlierSends(provider, { partOf: async (id: string) => records[id] });
  return {
    find,
    calls: () => calls,
    fail(value: boolean) {
      failing = value;
    },
  };
}

const part = (primary: string, message?: string): SentPart => ({ primary, index: 0, total: 1, complete: true, sentAt: 0, ...(message && { message }) });

test("a listed text counts only with the same body and media, made after the message was written less five minutes", async () => {
  const { find } = setup([
    { id: "SM-new", body: "hello", media: 0, createdAt: at(2_000) },
    { id: "SM-media", body: "hello", media: 1, createdAt: at(1_000) },
    { id: "SM-old", body: "hello", media: 0, createdAt: at(-6 * 60_000) },
    { id: "SM-undated", body: "undated", media: 0, createdAt: new Date(Number.NaN) },
  ]);
  const earlier = find(account, conversation, { id: "m1", sentAt: written })!;
  assert.equal(await earlier({ body: "hello", media: 0 }, []), "SM-new");
  assert.equal(await earlier({ body: "hello", media: 1 }, []), "SM-media");
  assert.equal(await earlier({ body: "hello", media: 2 }, []), undefined);
  assert.equal(await earlier({ body: "hello!", media: 0 }, []), undefined);
  assert.equal(await earlier({ body: "undated", media: 0 }, []), undefined, "a text without a creation time Twilio gave is not counted");
  assert.equal(await earlier({ body: "hello", media: 0 }, ["SM-new"]), undefined, "a text already matched to a part is not matched again");
});

test("a text on record as another message's does not count; one on record as this message's does", async () => {
  const listed = [
    { id: "SM-2", body: "ok", media: 0, createdAt: at(3_000) },
    { id: "SM-1", body: "ok", media: 0, createdAt: at(1_000) },
  ];
  const { find } = setup(listed, { "SM-1": part("SM-1", "other"), "SM-2": part("SM-2", "m1") });
  assert.equal(await find(account, conversation, { id: "m1", sentAt: written })!({ body: "ok", media: 0 }, []), "SM-2");
  const old = setup(listed, { "SM-1": part("SM-1"), "SM-2": part("SM-2") });
  assert.equal(
    await old.find(account, conversation, { id: "m1", sentAt: written })!({ body: "ok", media: 0 }, []),
    undefined,
    "a record without a message id (written by 0.1.0) is another message's",
  );
});

test("parts of one message match oldest first", async () => {
  const { find } = setup([
    { id: "SM-b", body: "same", media: 0, createdAt: at(2_000) },
    { id: "SM-a", body: "same", media: 0, createdAt: at(1_000) },
  ]);
  const earlier = find(account, conversation, { id: "m1", sentAt: written })!;
  assert.equal(await earlier({ body: "same", media: 0 }, []), "SM-a");
  assert.equal(await earlier({ body: "same", media: 0 }, ["SM-a"]), "SM-b");
});

test("messages of one conversation share one look-up; a failed one is asked again", async () => {
  const setupped = setup([{ id: "SM-1", body: "x", media: 0, createdAt: at(0) }]);
  setupped.fail(true);
  await assert.rejects(setupped.find(account, conversation, { id: "m1", sentAt: written })!({ body: "x", media: 0 }, []));
  setupped.fail(false);
  for (const id of ["m1", "m2", "m3"]) await setupped.find(account, conversation, { id, sentAt: written })!({ body: "y", media: 0 }, []);
  assert.equal(setupped.calls(), 2);
  await setupped.find(account, { ...conversation, to: "+14155550199" }, { id: "m4", sentAt: written })!({ body: "y", media: 0 }, []);
  assert.equal(setupped.calls(), 3, "another conversation is looked up on its own");
});

test("a provider that cannot list sent texts gives no look-up", () => {
  assert.equal(earlierSends({}, { partOf: async () => undefined })(account, conversation, { id: "m1", sentAt: written }), undefined);
});

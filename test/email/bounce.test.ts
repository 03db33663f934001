import assert from "node:assert/strict";
import { test } from "node:test";
import { readBounce } from "../../transports/email/bounce.js";
import { parseMail } from "../../transports/email/mime.js";

const TRIM = { trimQuotes: true, trimSignatures: true };
const dsn = (status: string, original: string, originalType = "message/rfc822"): Buffer =>
  Buffer.from(
    [
      "From: MAILER-DAEMON@mx.test",
      "To: juliet@capulet.test",
      "Subject: Undelivered Mail",
      'Content-Type: multipart/report; report-type=delivery-status; boundary="R"',
      "",
      "--R",
      "Content-Type: text/plain",
      "",
      "Sorry.",
      "--R",
      "Content-Type: message/delivery-status",
      "",
      status,
      "--R",
      `Content-Type: ${originalType}`,
      "",
      original,
      "--R--",
      "",
    ].join("\r\n"),
  );

const ORIGINAL = "From: juliet@capulet.test\r\nTo: paris@verona.test\r\nMessage-ID: <abc-123@email.example.test>\r\nSubject: No\r\n\r\nI will not.";

test("a failed delivery report names the original Message-ID and the server's diagnosis", async () => {
  const status =
    "Reporting-MTA: dns; mx.test\r\n\r\nFinal-Recipient: rfc822; paris@verona.test\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <paris@verona.test>:\r\n Recipient address rejected: User unknown\r\n";
  const bounce = readBounce(await parseMail(dsn(status, ORIGINAL), TRIM));
  assert.equal(bounce?.originalMessageId, "<abc-123@email.example.test>");
  assert.equal(bounce?.failed, true);
  assert.match(
    bounce?.reason ?? "",
    /The mail to paris@verona\.test could not be delivered: 550 5\.1\.1 <paris@verona\.test>: Recipient address rejected: User unknown/,
  );
});

test("the original's headers may come alone (text/rfc822-headers)", async () => {
  const status = "Reporting-MTA: dns; mx.test\r\n\r\nFinal-Recipient: rfc822;paris@verona.test\r\nAction: failed\r\nStatus: 5.2.2\r\n";
  const bounce = readBounce(await parseMail(dsn(status, ORIGINAL.split("\r\n\r\n")[0]!, "text/rfc822-headers"), TRIM));
  assert.equal(bounce?.originalMessageId, "<abc-123@email.example.test>");
  assert.match(bounce?.reason ?? "", /status 5\.2\.2/);
});

test("a 'delayed' report is not a failure", async () => {
  const status = "Reporting-MTA: dns; mx.test\r\n\r\nFinal-Recipient: rfc822; paris@verona.test\r\nAction: delayed\r\nStatus: 4.4.1\r\n";
  const bounce = readBounce(await parseMail(dsn(status, ORIGINAL), TRIM));
  assert.equal(bounce?.failed, false);
});

test("an ordinary mail is not a bounce", async () => {
  const parsed = await parseMail(Buffer.from("From: a@b.test\r\nSubject: Delivery Status Notification (Failure)\r\n\r\nHi"), TRIM);
  assert.equal(readBounce(parsed), undefined);
});

// Marks go to the IMAP server as one sequence set, runs of UIDs as ranges.
import { test } from "node:test";
import assert from "node:assert/strict";
import { uidSet } from "../../transports/email/imap.js";

test("confirmed UIDs are marked as one sequence set with ranges for consecutive runs", () => {
  assert.equal(uidSet([7, 3, 4, 5, 9, 10, 12]), "3:5,7,9:10,12");
  assert.equal(uidSet([42]), "42");
  assert.equal(uidSet([]), "");
});

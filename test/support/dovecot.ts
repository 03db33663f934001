// The tests' Dovecot is the trial's (src/trial/dovecot.ts): one way to run it, for both.
export * from "../../src/trial/dovecot.js";

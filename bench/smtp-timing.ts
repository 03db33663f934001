// A preload that times each SMTP transaction nodemailer runs in a process (from MAIL FROM to the
// server's answer to the message, on a connection already open), to compare the gateway's with the
// nodemailer baseline's on the same SMTP server. Loaded into every process of a bench run through
// NODE_OPTIONS, since the baselines take no node flags of their own; each process that sent mail
// writes one line to SMTP_TIMING_DIR when it exits:
//   npm run build && mkdir -p /tmp/smtp-timing && SMTP_TIMING_DIR=/tmp/smtp-timing \
//     NODE_OPTIONS=--import=$PWD/dist/bench/smtp-timing.js npm run bench -- --only xmpp-to-email …
//   cat /tmp/smtp-timing/*
// Measurement only: nothing in the gateway changes.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { percentile } from "./stats.js";

type Send = (envelope: unknown, message: unknown, done: (...args: unknown[]) => void) => unknown;

const dir = process.env.SMTP_TIMING_DIR;
// The ESM build of nodemailer, as the gateway and the baseline import it (the CommonJS one is a
// separate copy of the class).
const loaded = dir
  ? ((await import("nodemailer/lib/smtp-connection/index.js").catch(() => undefined)) as { default?: { prototype: { send: Send } } } | undefined)
  : undefined;
const prototype = loaded?.default?.prototype;

if (dir && prototype) {
  const times: number[] = [];
  const send = prototype.send;
  prototype.send = function (this: unknown, envelope, message, done) {
    const started = performance.now();
    return send.call(this, envelope, message, (...args: unknown[]) => {
      times.push(performance.now() - started);
      done(...args);
    });
  };
  process.on("exit", () => {
    if (times.length === 0) return;
    const at = (p: number): string => percentile(times, p).toFixed(2);
    const mean = times.reduce((sum, time) => sum + time, 0) / times.length;
    const line = `${process.argv[1] ?? "node"}: ${times.length} SMTP transactions, ms p10 ${at(10)}, p50 ${at(50)}, p90 ${at(90)}, mean ${mean.toFixed(2)}\n`;
    writeFileSync(join(dir, `smtp-${process.pid}.txt`), line);
  });
}

// A write-ahead journal file for messages arriving from the XMPP server, for stores that cannot
// write before the first await (PostgreSQL; on SQLite the ledger's intake table does this job, see
// intake-ledger.ts). XEP-0114 has no acks: once the server wrote a stanza to our socket it
// considers it delivered. Each incoming message is appended here synchronously, before any await,
// and marked done once it is in the outbox (or refused); after a crash, what has no mark is
// handled again (de-duplication by stanza id makes that safe). Appends land in the page cache,
// which outlives a killed process.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, truncateSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parse } from "ltx";
import type { Logger } from "pino";
import type { Element } from "../../xmpp/xml.js";

/** Names one recorded stanza until it is done. */
export type IntakeMark = number | string;

export interface IntakeJournal {
  /** Records a stanza, before the caller's first await; returns the mark to pass to done() (none
   *  when it cannot be recorded: the message is then handled without). */
  write(stanza: Element): IntakeMark | undefined;
  done(mark: IntakeMark): void;
  /** Stanzas an earlier run took in but never finished, oldest first, each with its mark: they
   *  stay recorded until done(mark), so a failed start or another crash loses none. */
  unfinished(): Promise<Array<{ stanza: Element; mark: IntakeMark }>>;
}

const COMPACT_AFTER_BYTES = 4 * 1024 * 1024;

export function openIntakeJournal(file: string, log: Logger): IntakeJournal {
  mkdirSync(dirname(file), { recursive: true });
  let sequence = 0;
  let open = 0;
  let bytes = 0;
  const leftover: Array<{ stanza: Element; mark: IntakeMark }> = [];

  if (existsSync(file)) {
    const pending = new Map<number, string>();
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (!line) continue;
      try {
        const entry = JSON.parse(line) as { n: number; xml?: string; done?: boolean };
        if (entry.done) pending.delete(entry.n);
        else if (entry.xml) pending.set(entry.n, entry.xml);
      } catch {
        // a line cut short by the crash: its stanza never got further than this
      }
    }
    const carried: string[] = [];
    for (const [n, text] of [...pending].sort(([a], [b]) => a - b)) {
      try {
        const stanza = parse(text) as unknown as Element;
        carried.push(text);
        leftover.push({ stanza, mark: carried.length });
      } catch (error) {
        log.warn({ entry: n, err: error }, "dropped an unreadable journal entry");
      }
    }
    // The unfinished entries move into a fresh journal, which replaces the old one in one rename:
    // at no moment is an unfinished stanza in neither.
    const fresh = carried.map((text, index) => `${JSON.stringify({ n: index + 1, xml: text })}\n`).join("");
    writeFileSync(`${file}.new`, fresh, { mode: 0o600 });
    renameSync(`${file}.new`, file);
    sequence = carried.length;
    open = carried.length;
    bytes = fresh.length;
  }

  // A journal that cannot be written (disk full) must not stop the gateway: the message is then
  // handled without it, and the store, failing too, refuses it with a clear error.
  let failing = false;
  const append = (entry: object): boolean => {
    const line = `${JSON.stringify(entry)}\n`;
    try {
      appendFileSync(file, line);
    } catch (error) {
      if (!failing) log.error({ file, err: error }, "cannot write the intake journal");
      failing = true;
      return false;
    }
    if (failing) log.info({ file }, "the intake journal is writable again");
    failing = false;
    bytes += line.length;
    return true;
  };

  return {
    write(stanza) {
      sequence += 1;
      if (!append({ n: sequence, xml: stanza.toString() })) return undefined;
      open += 1;
      return sequence;
    },
    done(mark) {
      open -= 1;
      append({ n: mark, done: true });
      // Nothing in flight: everything in the file is finished and can go.
      if (open === 0 && bytes > COMPACT_AFTER_BYTES) {
        try {
          truncateSync(file, 0);
          bytes = 0;
        } catch (error) {
          log.warn({ file, err: error }, "could not compact the intake journal");
        }
      }
    },
    async unfinished() {
      return leftover.splice(0);
    },
  };
}

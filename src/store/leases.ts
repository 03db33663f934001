// Who holds a component domain: the XMPP server takes one connection per component, so of several
// gateway instances sharing a PostgreSQL store exactly one runs each domain, and the others stand
// by. On PostgreSQL a domain is a session-level advisory lock on a connection of its own: the
// database drops it the moment that connection ends (a killed process's socket closes at once; a
// vanished machine is noticed by TCP keep-alives within about 15 s). On SQLite one process owns
// the file, so every domain is held at once.
import pg from "pg";
import type { Logger } from "pino";

export interface Leases {
  /** Takes `name` if no other instance holds it; true when this instance holds it now. */
  tryAcquire(name: string): Promise<boolean>;
  /** Resolves once this instance holds `name`; tries again every `retryMs` meanwhile. */
  acquire(name: string, retryMs?: number): Promise<void>;
  /** Called once if a held lease is lost (its connection to the database ended). */
  onLost(listener: (reason: string) => void): void;
  close(): Promise<void>;
}

const RETRY_MS = 2_000;
const CHECK_MS = 5_000;

export async function openLeases(uri: string, log: Logger): Promise<Leases> {
  if (/^sqlite:/i.test(uri)) {
    return { tryAcquire: async () => true, acquire: async () => undefined, onLost: () => undefined, close: async () => undefined };
  }
  const client = new pg.Client({ connectionString: uri, keepAlive: true });
  const listeners: Array<(reason: string) => void> = [];
  const held = new Set<string>();
  let closing = false;
  let lost = false;
  const lose = (reason: string): void => {
    if (lost || closing) return;
    lost = true;
    if (held.size > 0) log.error({ domains: [...held], reason }, "lost the store connection that holds this instance's domains");
    for (const listener of listeners) listener(reason);
  };
  client.on("error", (error: Error) => lose(error.message));
  client.on("end", () => lose("the connection ended"));
  await client.connect();
  // The server notices a client machine that vanished without closing its socket within ~15 s.
  await client.query("SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 5");
  // A connection that dies quietly (the database restarted) is noticed by a query failing.
  const check = setInterval(() => {
    if (held.size > 0) client.query("SELECT 1").catch((error: Error) => lose(error.message));
  }, CHECK_MS);
  check.unref();

  const tryAcquire = async (name: string): Promise<boolean> => {
    if (closing || lost) throw new Error(`the lease on ${name} cannot be taken: the store connection is ${closing ? "closing" : "gone"}`);
    if (held.has(name)) return true;
    const { rows } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok", [`switchboard:${name}`]);
    if (!rows[0]?.ok) return false;
    held.add(name);
    log.info({ domain: name }, "this instance holds the domain");
    return true;
  };

  return {
    tryAcquire,
    async acquire(name, retryMs = RETRY_MS) {
      if (await tryAcquire(name)) return;
      log.info({ domain: name }, "another instance holds the domain; standing by");
      while (!(await tryAcquire(name))) await new Promise((resolve) => setTimeout(resolve, retryMs).unref());
    },
    onLost(listener) {
      listeners.push(listener);
    },
    async close() {
      closing = true;
      clearInterval(check);
      await client.end().catch(() => undefined);
    },
  };
}

// A real PostgreSQL (Debian's 15) of our own in a temporary folder, on a free loopback port, for
// tests that run the store on PostgreSQL (SWITCHBOARD_TEST_STORE=postgresql). initdb takes seconds,
// so one cluster serves the whole test process, started on first use; each caller gets its own
// database in it. The cluster is stopped and its folder removed when the process exits.
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort, waitForPort } from "../../src/trial/ports.js";

/** Which store the integration tests run on: SQLite by default, PostgreSQL with SWITCHBOARD_TEST_STORE=postgresql. */
export const STORE_KIND: "sqlite" | "postgresql" = /^postgres(ql)?$/i.test(process.env.SWITCHBOARD_TEST_STORE ?? "") ? "postgresql" : "sqlite";

const BIN = process.env.SWITCHBOARD_PG_BIN ?? "/usr/lib/postgresql/15/bin";
const SUPERUSER = "postgres";

interface Cluster {
  dir: string;
  port: number;
  options: string;
}

let cluster: Promise<Cluster> | undefined;
let running: Cluster | undefined;
let databases = 0;

/** The store section of a test gateway's config: an SQLite file in `dir`, or with
 *  SWITCHBOARD_TEST_STORE=postgresql a fresh database of its own (the intake journal then goes to
 *  `dir` too: by default it would land in the working folder, shared by every test). */
export async function testStore(dir: string, secretKey: string): Promise<{ uri: string; secretKey: string; journalDir?: string }> {
  if (STORE_KIND === "sqlite") return { uri: `sqlite://${join(dir, "switchboard.sqlite")}`, secretKey };
  return { uri: await createDatabase(), secretKey, journalDir: join(dir, "journal") };
}

/** A store of its own for a test that opens one directly: the SQLite file `dir`/`file`, or a fresh
 *  PostgreSQL database with SWITCHBOARD_TEST_STORE=postgresql. */
export async function scratchStoreUri(dir: string, file = "store.sqlite"): Promise<string> {
  return STORE_KIND === "sqlite" ? `sqlite://${join(dir, file)}` : createDatabase();
}

/** Everything the store at `uri` keeps, as text, to check what is (not) kept in the clear: the
 *  SQLite file and its write-ahead log byte for byte, or every row of every PostgreSQL table. */
export async function storedText(uri: string): Promise<string> {
  if (/^sqlite:/i.test(uri)) {
    const file = uri.replace(/^sqlite:\/\//i, "");
    return [file, `${file}-wal`]
      .filter((path) => existsSync(path))
      .map((path) => readFileSync(path, "latin1"))
      .join("\n");
  }
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>(
      "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
    );
    const texts: string[] = [];
    for (const { name } of tables.rows) {
      const rows = await client.query<Record<string, unknown>>(`SELECT * FROM ${name}`);
      for (const row of rows.rows) texts.push(Object.values(row).map(columnText).join("\t"));
    }
    return texts.join("\n");
  } finally {
    await client.end();
  }
}

/** Leaves the store at `uri` unable to keep anything: an SQLite store's disk is filled with the
 *  file `filler` (the store must be on a small disk of its own), a PostgreSQL database fails every write. */
export async function fillStore(uri: string, filler: string): Promise<void> {
  if (!/^sqlite:/i.test(uri)) return refuseWrites(uri, true);
  try {
    writeFileSync(filler, Buffer.alloc(4 * 1024 * 1024));
  } catch {
    // ENOSPC: the disk is now full, which is the point
  }
}

/** Undoes fillStore. */
export async function freeStore(uri: string, filler: string): Promise<void> {
  if (/^sqlite:/i.test(uri)) rmSync(filler);
  else await refuseWrites(uri, false);
}

/** Makes every table of the PostgreSQL database at `uri` refuse writes with the error a full disk
 *  gives (53100 disk_full), or take them again. Triggers, not a read-only setting: that would need
 *  the open sessions ended, and ending them also ends the session that holds a domain's lock. */
export async function refuseWrites(uri: string, refuse: boolean): Promise<void> {
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>(
      "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    );
    if (refuse) {
      await client.query(`CREATE OR REPLACE FUNCTION switchboard_test_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'could not extend file: No space left on device (a test filled the disk)' USING ERRCODE = 'disk_full'; END $$`);
    }
    for (const { name } of tables.rows) {
      await client.query(
        refuse
          ? `CREATE TRIGGER switchboard_test_disk_full BEFORE INSERT OR UPDATE OR DELETE ON ${name} FOR EACH STATEMENT EXECUTE FUNCTION switchboard_test_disk_full()`
          : `DROP TRIGGER IF EXISTS switchboard_test_disk_full ON ${name}`,
      );
    }
  } finally {
    await client.end();
  }
}

/** How many key/value rows of the store at `uri` (SQLite or PostgreSQL) have `part` in their key,
 *  or with `inValues` in their key or their value. */
export async function countKeys(uri: string, part: string, options: { inValues?: boolean } = {}): Promise<number> {
  return countWhere(uri, "keyv", options.inValues ? ["key", "value"] : ["key"], part);
}

/** How many rows of the ledger table `table` (SQLite or PostgreSQL) hold `part` in `column`. */
export async function countRowsHolding(uri: string, table: "inbox" | "outbox" | "seen", column: "stored" | "entry" | "value", part: string): Promise<number> {
  return countWhere(uri, table, [column], part);
}

/** Rows of `table` with `part` in any of `columns`: a read-only look at a store's file or database. */
async function countWhere(uri: string, table: string, columns: string[], part: string): Promise<number> {
  if (/^sqlite:/i.test(uri)) {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(uri.replace(/^sqlite:\/\//i, ""), { readonly: true });
    try {
      const where = columns.map((column) => `instr(${column}, @part) > 0`).join(" OR ");
      return (db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`).get({ part }) as { n: number }).n;
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    const where = columns.map((column) => `strpos(${column}::text, $1) > 0`).join(" OR ");
    return Number((await client.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`, [part])).rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

/** Writes one key/value row of the store at `uri` as it is given, as an earlier release may have. */
export async function putRawKey(uri: string, key: string, value: string): Promise<void> {
  if (/^sqlite:/i.test(uri)) {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(uri.replace(/^sqlite:\/\//i, ""));
    try {
      db.prepare("INSERT INTO keyv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, value);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    await client.query("INSERT INTO keyv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value]);
  } finally {
    await client.end();
  }
}

/** Makes writes of the key/value rows whose key contains `part` fail as a full disk fails them,
 *  on SQLite or PostgreSQL, or take them again: the rest of the store keeps working. */
export async function refuseKeyWrites(uri: string, part: string, refuse: boolean): Promise<void> {
  if (/^sqlite:/i.test(uri)) {
    const { default: Database } = await import("better-sqlite3");
    // No busy wait: a gateway in this same process commits its open transaction only on a later
    // turn of the event loop, which a synchronous wait for its lock would never let come.
    const db = new Database(uri.replace(/^sqlite:\/\//i, ""), { timeout: 0 });
    try {
      const statements = ["INSERT", "UPDATE"].map((event) => {
        const name = `switchboard_test_full_${event.toLowerCase()}`;
        return refuse
          ? `CREATE TRIGGER ${name} BEFORE ${event} ON keyv WHEN instr(NEW.key, ${quoteSql(part)}) > 0 BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`
          : `DROP TRIGGER IF EXISTS ${name}`;
      });
      for (const deadline = Date.now() + 10_000; ; ) {
        try {
          db.transaction(() => {
            for (const statement of statements) db.exec(statement);
          })();
          break;
        } catch (error) {
          if ((error as { code?: string }).code !== "SQLITE_BUSY" || Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    if (refuse) {
      await client.query(`CREATE OR REPLACE FUNCTION switchboard_test_key_full() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'could not extend file: No space left on device (a test filled the disk)' USING ERRCODE = 'disk_full'; END $$`);
      await client.query(
        `CREATE TRIGGER switchboard_test_key_full BEFORE INSERT OR UPDATE ON keyv FOR EACH ROW WHEN (strpos(NEW.key, ${quoteSql(part)}) > 0) EXECUTE FUNCTION switchboard_test_key_full()`,
      );
    } else await client.query("DROP TRIGGER IF EXISTS switchboard_test_key_full ON keyv");
  } finally {
    await client.end();
  }
}

const quoteSql = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** A column as it was stored: text as it is, bytes as bytes, anything else as JSON. */
function columnText(value: unknown): string {
  if (typeof value === "string") return value;
  if (Buffer.isBuffer(value)) return value.toString("latin1");
  return JSON.stringify(value) ?? "";
}

/** A fresh, empty database in this process's cluster (started on first call); its postgresql:// URI. */
export async function createDatabase(): Promise<string> {
  cluster ??= startCluster();
  const { port } = await cluster;
  databases += 1;
  const name = `switchboard_${process.pid}_${databases}`;
  const client = new pg.Client({ host: "127.0.0.1", port, user: SUPERUSER, database: "postgres" });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return `postgresql://${SUPERUSER}@127.0.0.1:${port}/${name}`;
}

async function startCluster(): Promise<Cluster> {
  if (!existsSync(join(BIN, "initdb"))) {
    throw new Error(`PostgreSQL is not installed (no ${BIN}/initdb): run .ci/install-servers, or set SWITCHBOARD_PG_BIN`);
  }
  const dir = mkdtempSync(join(tmpdir(), "switchboard-postgres-"));
  // PostgreSQL refuses to run as root: then it runs as the postgres user, who must own the folder.
  if (process.getuid?.() === 0) chownSync(dir, postgresIds().uid, postgresIds().gid);
  chmodSync(dir, 0o700);
  const data = join(dir, "data");
  const started: Cluster = { dir, port: 0, options: "" };
  running = started;
  process.once("exit", stopCluster);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => exitOnSignal(signal));
  watchOver(dir, data);

  // -N: no fsync while creating it; the server below runs without fsync too. A test cluster lives
  // as long as its process; losing it to a power cut loses nothing that matters.
  run(["initdb", "-D", data, "-A", "trust", "-U", SUPERUSER, "-E", "UTF8", "--locale=C", "-N"], dir);
  // Another process may take the free port before the server binds it: then try another one.
  for (let attempt = 1; ; attempt += 1) {
    started.port = await freePort();
    // The benchmark measures a server as shipped (SWITCHBOARD_PG_DURABLE=1): syncs to disk on.
    // synchronous_commit stays on, as shipped: with it off a commit is acknowledged before its WAL
    // is written, and an immediate stop (a crash) loses what was acknowledged in the last moments,
    // which the fault suite's database restart would then count against the gateway.
    const speed = process.env.SWITCHBOARD_PG_DURABLE ? "" : " -c fsync=off -c full_page_writes=off";
    const options = `-p ${started.port} -k ${dir} -c listen_addresses=127.0.0.1${speed} -c max_connections=200`;
    started.options = options;
    try {
      run(["pg_ctl", "-D", data, "-l", join(dir, "postgres.log"), "-o", options, "-w", "-t", "60", "start"], dir);
      break;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
  await waitForPort(started.port, 15_000, "PostgreSQL");
  return started;
}

/** Stops this process's cluster (`fast`: sessions ended, a clean shutdown; `immediate`: as after a
 *  crash, recovery at the next start), keeps it down `downMs`, and starts it again on the same
 *  port. Resolves with the times it went down and came back up. Asynchronous, so that the test's
 *  clients keep running meanwhile. */
export async function restartPostgres(mode: "fast" | "immediate", downMs = 0): Promise<{ downAt: number; upAt: number }> {
  if (!cluster) throw new Error("no PostgreSQL cluster is running in this process");
  const { dir, options } = await cluster;
  const data = join(dir, "data");
  await runAsync(["pg_ctl", "-D", data, "-m", mode, "-w", "stop"], dir);
  const downAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, downMs));
  await runAsync(["pg_ctl", "-D", data, "-l", join(dir, "postgres.log"), "-o", options, "-w", "-t", "60", "start"], dir);
  return { downAt, upAt: Date.now() };
}

function runAsync(command: string[], cwd: string): Promise<void> {
  const [program, ...args] = command as [string, ...string[]];
  const path = join(BIN, program);
  const asRoot = process.getuid?.() === 0;
  return new Promise((resolve, reject) => {
    const child = spawn(asRoot ? "runuser" : path, asRoot ? ["-u", "postgres", "--", path, ...args] : args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${program} ${args.join(" ")} failed (exit ${code}): ${output.trim()}`))));
  });
}

/** A test process can end without its "exit" event (SIGKILL, or the test runner ending it): a
 *  detached shell waits for it to be gone, then stops the cluster and removes its folder. */
function watchOver(dir: string, data: string): void {
  const pgCtl = join(BIN, "pg_ctl");
  const script = [
    'while kill -0 "$1" 2>/dev/null; do sleep 1; done',
    'if [ -e "$3/postmaster.pid" ]; then',
    '  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$4" -D "$3" -m immediate -w stop; else "$4" -D "$3" -m immediate -w stop; fi',
    "fi >/dev/null 2>&1",
    '[ -n "$KEEP_TEST_DIRS" ] || rm -rf "$2"',
  ].join("\n");
  spawn("sh", ["-c", script, "switchboard-postgres-watch", String(process.pid), dir, data, pgCtl], { detached: true, stdio: "ignore" }).unref();
}

/** Synchronous, so that it also works from the process's "exit" event. */
function stopCluster(): void {
  const stopping = running;
  running = undefined;
  if (!stopping) return;
  const data = join(stopping.dir, "data");
  if (existsSync(join(data, "postmaster.pid"))) {
    // immediate: nothing in a test database needs to survive, and it returns in a fraction of a second.
    spawnAs(["pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], stopping.dir);
  }
  if (process.env.KEEP_TEST_DIRS) return;
  rmSync(stopping.dir, { recursive: true, force: true });
}

function exitOnSignal(signal: NodeJS.Signals): void {
  stopCluster();
  process.kill(process.pid, signal);
}

function run(command: string[], cwd: string): void {
  const result = spawnAs(command, cwd);
  if (result.status !== 0) {
    throw new Error(`${command[0]} failed (${result.error?.message ?? `exit ${result.status}`}): ${`${result.stdout}${result.stderr}`.trim()}`);
  }
}

function spawnAs(command: string[], cwd: string): SpawnSyncReturns<string> {
  const [program, ...args] = command as [string, ...string[]];
  const path = join(BIN, program);
  const asRoot = process.getuid?.() === 0;
  return spawnSync(asRoot ? "runuser" : path, asRoot ? ["-u", "postgres", "--", path, ...args] : args, { cwd, encoding: "utf8", timeout: 120_000 });
}

let ids: { uid: number; gid: number } | undefined;

function postgresIds(): { uid: number; gid: number } {
  if (ids) return ids;
  const uid = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) throw new Error("running as root, and there is no postgres user to run PostgreSQL as (install postgresql-15)");
  ids = { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  return ids;
}

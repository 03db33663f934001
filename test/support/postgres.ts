// A real PostgreSQL (Debian's 15) of our own in a temporary folder, on a free loopback port, for
// tests that run the store on PostgreSQL (SWITCHBOARD_TEST_STORE=postgresql). initdb takes seconds,
// so one cluster serves the whole test process, started on first use; each caller gets its own
// database in it. The cluster is stopped and its folder removed when the process exits.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
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
    return [file, `${file}-wal`].filter((path) => existsSync(path)).map((path) => readFileSync(path, "latin1")).join("\n");
  }
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>("SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')");
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
 *  file `filler` (the store must be on a small disk of its own), a PostgreSQL database refuses writes. */
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

/** Makes the PostgreSQL database at `uri` refuse every write (as a full disk or a read-only
 *  replica would), or take them again: the setting counts for new sessions, so the database's
 *  open sessions are ended and the gateway's pool reconnects into the new setting. */
export async function refuseWrites(uri: string, refuse: boolean): Promise<void> {
  const { port } = await (cluster ?? Promise.reject(new Error("no PostgreSQL cluster in this process")));
  const name = new URL(uri).pathname.slice(1);
  const client = new pg.Client({ host: "127.0.0.1", port, user: SUPERUSER, database: "postgres" });
  await client.connect();
  try {
    await client.query(`ALTER DATABASE ${name} ${refuse ? "SET default_transaction_read_only = on" : "RESET default_transaction_read_only"}`);
    await client.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [name]);
  } finally {
    await client.end();
  }
}

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
  const port = await freePort();
  const data = join(dir, "data");
  running = { dir, port };
  process.once("exit", stopCluster);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => exitOnSignal(signal));

  // -N: no fsync while creating it; the server below runs without fsync too. A test cluster lives
  // as long as its process; losing it to a power cut loses nothing that matters.
  run(["initdb", "-D", data, "-A", "trust", "-U", SUPERUSER, "-E", "UTF8", "--locale=C", "-N"], dir);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  run(["pg_ctl", "-D", data, "-l", join(dir, "postgres.log"), "-o", options, "-w", "-t", "60", "start"], dir);
  await waitForPort(port, 15_000, "PostgreSQL");
  return running;
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

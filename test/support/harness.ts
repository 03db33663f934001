// Starts a real Prosody in a temporary folder and Switchboard against it, for integration tests.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSwitchboard, type Switchboard } from "../../src/app.js";
import { configSchema, type Config } from "../../src/config/schema.js";
import { createLogger } from "../../src/log.js";
import type { Transport } from "../../src/transport/contract.js";
import { LocalProsody, type ProsodyOptions } from "../../src/trial/prosody.js";
import { LocalEjabberd } from "./ejabberd.js";
import { testStore } from "./postgres.js";
import { createTestTransport, type TestTransport } from "./test-transport.js";
import { TestClient } from "./xmpp-client.js";

export const DOMAIN = "example.test";
export const GATEWAY = "test.example.test";
export const SECRET = "component-secret";
export const PASSWORD = "password";

/** The XMPP server under test: Prosody by default, ejabberd with SWITCHBOARD_TEST_SERVER=ejabberd. */
export interface TestServer {
  readonly name: "prosody" | "ejabberd";
  readonly c2sPort: number;
  readonly componentPort: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  restart(): Promise<void>;
  addUser(username: string, password: string): void | Promise<void>;
  /** Deletes an account, as the server's admin would. */
  removeUser(username: string): void | Promise<void>;
  /** Operating-system processes of the server (to freeze it with SIGSTOP). */
  pids(): Promise<number[]>;
}

export const SERVER_KIND: "prosody" | "ejabberd" = process.env.SWITCHBOARD_TEST_SERVER === "ejabberd" ? "ejabberd" : "prosody";

export interface Harness {
  dir: string;
  server: TestServer;
  gateway: Switchboard;
  transport: TestTransport;
  config: Config;
  login(username: string, options?: { presence?: boolean; resource?: string }): Promise<TestClient>;
  startGateway(): Promise<Switchboard>;
  stopGateway(): Promise<void>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  users?: string[];
  config?: (config: Record<string, unknown>) => void;
  /** Other transports to run beside the test one, keyed by their config section name. Without
   *  `transport`, the real one is loaded from transports/<name>/ and `options` is its config section. */
  transports?: Record<string, { domain: string; transport?: Transport; options?: Record<string, unknown> }>;
  /** Grant the transports XEP-0356 roster privilege (mod_privilege on either server). */
  privileged?: boolean;
  /** Run Prosody's mod_http_file_share (XEP-0363) as this component; the server is then Prosody
   *  whatever SWITCHBOARD_TEST_SERVER says (its httpPort is on the server object). */
  fileShare?: ProsodyOptions["fileShare"];
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "switchboard-test-"));
  chmodSync(dir, 0o711); // ejabberd runs as its own user and must reach its folder inside
  const extra = Object.values(options.transports ?? {});
  const components = [{ domain: GATEWAY, secret: SECRET }, ...extra.map((entry) => ({ domain: entry.domain, secret: SECRET }))];
  const server = createServer(join(dir, options.fileShare ? "prosody" : SERVER_KIND), components, options.privileged ?? false, options.fileShare);
  for (const user of options.users ?? ["juliet", "romeo"]) await server.addUser(user, PASSWORD);
  await server.start();

  // A setup that fails after this point (a config callback that throws, a gateway that does not
  // start) must not leave the server running: its process would keep the test process alive.
  let built: Harness | undefined;
  try {
    const raw: Record<string, unknown> = {
      xmpp: {
        host: "127.0.0.1",
        port: server.componentPort,
        serverDomain: DOMAIN,
        reconnectMinSeconds: 0.1,
        reconnectMaxSeconds: 1,
        pingIntervalSeconds: 5,
        pingTimeoutSeconds: 5,
      },
      store: await testStore(dir, "test-secret-key-0123456789"),
      http: { host: "127.0.0.1", port: 0 },
      media: { dir: join(dir, "media") },
      log: { level: "debug" },
      transports: {
        test: { domain: GATEWAY, secret: SECRET },
        ...Object.fromEntries(
          Object.entries(options.transports ?? {}).map(([name, entry]) => [name, { domain: entry.domain, secret: SECRET, ...entry.options }]),
        ),
      },
    };
    options.config?.(raw);
    const config = configSchema.parse(raw);
    const transport = createTestTransport();
    const log = createLogger(config.log.level, join(dir, "gateway.log"));
    const transports: Record<string, Transport> = { test: transport };
    for (const [name, entry] of Object.entries(options.transports ?? {})) if (entry.transport) transports[name] = entry.transport;
    const clients: TestClient[] = [];

    const harness: Harness = {
      dir,
      server,
      transport,
      config,
      gateway: undefined as unknown as Switchboard,
      async login(username, loginOptions) {
        const client = await TestClient.login(server.c2sPort, DOMAIN, username, PASSWORD, loginOptions);
        clients.push(client);
        return client;
      },
      async startGateway() {
        harness.gateway = await startSwitchboard(config, { log, transports, retryBaseMs: 50 });
        await Promise.all(harness.gateway.services.map((service) => service.link.waitOnline()));
        return harness.gateway;
      },
      async stopGateway() {
        await harness.gateway.stop();
      },
      async stop() {
        await Promise.allSettled(clients.map((client) => client.stop()));
        await harness.gateway?.stop().catch(() => undefined);
        await server.stop();
        if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
      },
    };
    built = harness;
    await harness.startGateway();
    return harness;
  } catch (error) {
    await built?.gateway?.stop().catch(() => undefined);
    await server.stop().catch(() => undefined);
    if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function createServer(
  dir: string,
  components: Array<{ domain: string; secret: string }>,
  privileged: boolean,
  fileShare?: ProsodyOptions["fileShare"],
): TestServer {
  if (SERVER_KIND === "ejabberd" && !fileShare) {
    const ejabberd = new LocalEjabberd({ dir, domain: DOMAIN, components, privileged });
    return Object.assign(ejabberd, {
      name: "ejabberd" as const,
      async pids() {
        const { execFileSync } = await import("node:child_process");
        return execFileSync("pgrep", ["-f", ejabberd.node]).toString().split("\n").filter(Boolean).map(Number);
      },
    });
  }
  const prosody = new LocalProsody({
    dir,
    domain: DOMAIN,
    components,
    ...(fileShare && { fileShare }),
    ...(privileged && {
      // pep, bookmarks (XEP-0402 with its #compat feature, which clients look for) and the pubsub iq
      // permission: rooms go into the user's bookmarks (docs/groups.md).
      modules: ["privilege", "pep", "bookmarks"],
      componentModules: ["privilege"],
      hostConfig: `privileged_entities = { ${components
        .map(
          (component) =>
            `[${JSON.stringify(component.domain)}] = { roster = "both"; message = "outgoing"; iq = { ["http://jabber.org/protocol/pubsub"] = "set" }; }`,
        )
        .join(", ")} }`,
    }),
  });
  return Object.assign(prosody, {
    name: "prosody" as const,
    async pids() {
      const { readFileSync } = await import("node:fs");
      return [Number(readFileSync(join(dir, "prosody.pid"), "utf8"))];
    },
  });
}

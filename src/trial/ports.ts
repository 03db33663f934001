// Loopback ports for the servers the trial and the tests start.
import { connect, createServer } from "node:net";

// The OS may hand out a port again as soon as it is released, so two servers of one process
// asking in a row could get the same one: remember what was handed out and ask again.
const handedOut = new Set<number>();

/** A port nothing listens on right now (the OS picks it), never one this process got before. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
      });
    });
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error("no fresh loopback port after 50 tries");
}

/** A server could not listen on a port it was given: another program holds it. */
export class PortTakenError extends Error {}

/**
 * Starts a server on ports from freePort. Another process may take such a port between the pick
 * and the server's own bind (the tests start many servers at once), so on PortTakenError `forget`
 * drops the ports picked for it and the start is tried again, three times in all. `forget` says
 * whether it dropped any: ports fixed by the caller are not picked again. Without `forget`, each
 * try of `start` picks all its ports afresh.
 */
export async function startOnFreePorts(start: () => Promise<void>, forget: () => boolean | Promise<boolean> = () => true): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await start();
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt === 3 || !(await forget())) throw error;
    }
  }
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Waits until something accepts connections on 127.0.0.1:`port`. */
export async function waitForPort(port: number, timeoutMs = 15_000, what = "nothing"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(port))) {
    if (Date.now() > deadline) throw new Error(`${what} listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether this process could listen on 127.0.0.1:`port` now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

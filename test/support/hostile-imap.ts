// An IMAP server that answers every login with a reply the test chooses, byte for byte: control
// characters, invalid UTF-8, anything a hostile or broken server might send back.
import { createServer, type Server, type Socket } from "node:net";
import { freePort } from "../../src/trial/ports.js";

export class HostileImap {
  port = 0;
  /** The text after "NO [AUTHENTICATIONFAILED]" in the next login's answer. */
  reply: Buffer = Buffer.from("no");
  logins = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  async start(): Promise<void> {
    this.port = await freePort();
    const server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.server = server;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => undefined);
    const line = (...parts: Array<string | Buffer>): boolean =>
      socket.write(Buffer.concat([...parts.map((part) => (typeof part === "string" ? Buffer.from(part) : part)), Buffer.from("\r\n")]));
    line("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ", this.reply);
    let buffered = "";
    socket.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("latin1");
      let end: number;
      while ((end = buffered.indexOf("\r\n")) !== -1) {
        const [tag = "*", command = ""] = buffered.slice(0, end).split(" ");
        buffered = buffered.slice(end + 2);
        switch (command.toUpperCase()) {
          case "CAPABILITY":
            line("* CAPABILITY IMAP4rev1 AUTH=PLAIN");
            line(`${tag} OK done`);
            break;
          case "LOGIN":
          case "AUTHENTICATE":
            this.logins += 1;
            line(`${tag} NO [AUTHENTICATIONFAILED] `, this.reply);
            break;
          case "LOGOUT":
            line("* BYE ", this.reply);
            line(`${tag} OK bye`);
            socket.end();
            break;
          default:
            line(`${tag} BAD `, this.reply);
        }
      }
    });
  }
}

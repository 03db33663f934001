// One XEP-0114 component link: connects, authenticates, reconnects with back-off, queues stanzas
// while the server is away and confirms each stanza with an iq round trip (the server handles a
// stream's stanzas in order, so an answered ping proves everything written before it arrived).
// A stanza after which the server closes the stream is sent alone on the next connection; if the
// server then closes the stream on it with a stream error that blames a stanza, that stanza is set
// aside ("refused") so it cannot hold the link hostage. A server that only goes away (restarts,
// closes without a word) does not make a stanza refused so soon: that takes several such closes
// with the stanza alone in flight. Every stanza is cleaned for XML 1.0 just before it is written.
import { EventEmitter } from "node:events";
import { randomUUID } from "node:crypto";
import { Component } from "@xmpp/component-core";
import type { Logger } from "pino";
import { cleanTree, xml, type Element } from "./xml.js";

export type LinkState = "connecting" | "online" | "offline" | "stopped";

export interface LinkOptions {
  host: string;
  port: number;
  domain: string;
  secret: string;
  /** Where keep-alive pings and delivery barriers go: the XMPP server's own domain. */
  serverDomain: string;
  log: Logger;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Stanzas kept while the server is away; past this, send() refuses. */
  maxQueue: number;
}

interface Outgoing {
  element: Element;
  resolve: () => void;
  reject: (error: Error) => void;
  /** How many times the server closed the stream while this stanza was unconfirmed. */
  strikes: number;
  /** Of those, closes without a stream error while it was alone in flight. */
  silentAlone: number;
}

interface PendingIq {
  resolve: (reply: Element) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class LinkDownError extends Error {
  readonly code = "link-down";
}

/** The link is stopping for good: nothing sent now will go. */
export class LinkStoppedError extends LinkDownError {
  constructor() {
    super("the gateway is shutting down");
  }
}

export class IqTimeoutError extends Error {
  readonly code = "iq-timeout";
}

/** The server closed the stream twice right after this stanza: it was set aside, not sent. */
export class StanzaRefusedError extends Error {
  readonly code = "stanza-refused";
  constructor(readonly condition: string) {
    super(`the XMPP server closed the stream (${condition}) each time this stanza was sent; it was set aside`);
  }
}

// Stream errors that say nothing about the stanzas just written: the server is going away, or
// the network is. Any other stream error counts against the unconfirmed stanzas.
const INNOCENT_STREAM_ERRORS = new Set([
  "system-shutdown",
  "connection-timeout",
  "reset",
  "see-other-host",
  "conflict",
  "host-gone",
  "remote-connection-failed",
  "not-authorized",
  "host-unknown",
  "resource-constraint",
]);

/** A server that closes the stream on a stanza without saying why (no stream error) is told from
 *  one that restarts only by doing so this many times with the stanza alone in flight. */
const SILENT_CLOSES_TO_REFUSE = 3;

export class ComponentLink extends EventEmitter {
  state: LinkState = "offline";
  readonly domain: string;
  private entity: Component | null = null;
  private queue: Outgoing[] = [];
  private unconfirmed: Outgoing[] = [];
  private readonly iqs = new Map<string, PendingIq>();
  private barrierRunning = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Immediate | null = null;
  private lastHeard = 0;
  /** The condition of the stream error the server sent on the current connection, if any. */
  private streamError: string | undefined;
  /** The current connection was given up because the server stopped answering. */
  private timedOut = false;
  /** Links lost since start, for the metrics. */
  drops = 0;

  constructor(private readonly options: LinkOptions) {
    super();
    this.domain = options.domain;
  }

  get log(): Logger {
    return this.options.log;
  }

  /** Starts connecting in the background; failures are retried until stop(). */
  start(): void {
    if (this.state !== "offline" || this.retryTimer) return;
    void this.connect();
  }

  waitOnline(timeoutMs = 10_000): Promise<void> {
    if (this.state === "online") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off("online", onOnline);
        reject(new LinkDownError(`component ${this.domain} did not come online within ${timeoutMs} ms`));
      }, timeoutMs);
      const onOnline = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.once("online", onOnline);
    });
  }

  /** Queue a stanza. Resolves once the server has handled it; survives reconnects. */
  send(element: Element): Promise<void> {
    if (this.state === "stopped") return Promise.reject(new LinkStoppedError());
    if (this.queue.length + this.unconfirmed.length >= this.options.maxQueue) {
      return Promise.reject(new LinkDownError(`the link to the XMPP server is down and ${this.options.maxQueue} stanzas are already waiting`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ element: cleanTree(element), resolve, reject, strikes: 0, silentAlone: 0 });
      if (this.state === "online") this.flushSoon();
    });
  }

  /** Send an iq get/set and wait for its answer (an error answer rejects). */
  async request(iq: Element, timeoutMs = this.options.pingTimeoutMs): Promise<Element> {
    if (this.state !== "online" || !this.entity) throw new LinkDownError(`component ${this.domain} is not connected`);
    const id = iq.attrs.id ?? randomUUID();
    iq.attrs.id = id;
    iq.attrs.from ??= this.domain;
    const entity = this.entity;
    cleanTree(iq);
    this.flush(); // stanzas queued before this iq go before it
    const reply = new Promise<Element>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.iqs.delete(id);
        reject(new IqTimeoutError(`no answer to iq ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.iqs.set(id, { resolve, reject, timer });
    });
    reply.catch(() => undefined); // the link may drop while the write is still pending; the caller gets the error below
    try {
      await entity.send(iq);
    } catch (error) {
      const pending = this.iqs.get(id);
      if (pending) clearTimeout(pending.timer);
      this.iqs.delete(id);
      throw error;
    }
    return reply;
  }

  async stop(): Promise<void> {
    if (this.flushTimer) {
      clearImmediate(this.flushTimer);
      this.flushTimer = null;
      this.flush(); // what was sent before stopping is written, as it would have been at once
    }
    this.state = "stopped";
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stopPinging();
    const entity = this.entity;
    this.entity = null;
    if (entity) {
      entity.removeAllListeners("disconnect");
      await Promise.race([entity.stop().catch(() => undefined), delay(2_000)]);
      entity.socket?.destroy();
    }
    const abandoned = [...this.unconfirmed, ...this.queue];
    this.unconfirmed = [];
    this.queue = [];
    for (const item of abandoned) item.reject(new LinkStoppedError());
    this.rejectIqs(new LinkStoppedError());
  }

  private async connect(): Promise<void> {
    this.retryTimer = null;
    if ((this.state as LinkState) === "stopped") return;
    this.setState("connecting");
    const { host, port, domain, secret, log } = this.options;
    const entity = new Component({ service: `xmpp://${host}:${port}`, domain });
    this.entity = entity;
    this.streamError = undefined;
    this.timedOut = false;
    entity.on("open", (header: Element) => {
      entity.authenticate(header.attrs.id ?? "", secret).catch((error: unknown) => entity.emit("error", error));
    });
    entity.on("stanza", (stanza: Element) => this.receive(stanza));
    entity.on("error", (error: Error & { condition?: string }) => {
      if (error.condition && this.entity === entity) this.streamError = error.condition;
      const hint = error.condition === "not-authorized" ? " (the component secret does not match the server's)" : "";
      log.warn({ domain, err: error.message, condition: error.condition }, `component link error${hint}`);
    });
    entity.once("disconnect", () => this.lost(entity));
    try {
      const online = new Promise<void>((resolve, reject) => {
        entity.once("online", () => resolve());
        entity.once("error", reject);
        entity.once("disconnect", () => reject(new Error("the server closed the connection")));
      });
      online.catch(() => undefined); // connect() may fail first; its own error is the one reported

      await entity.connect(`xmpp://${host}:${port}`);
      entity.socket?.setNoDelay(true);
      await entity.open({ domain });
      await online;
    } catch (error) {
      log.warn({ domain, host, port, err: (error as Error).message, attempt: this.failures + 1 }, "component link failed to connect");
      entity.removeAllListeners("disconnect");
      entity.socket?.destroy();
      if (this.entity === entity) this.entity = null;
      if ((this.state as LinkState) === "stopped") return;
      this.failures += 1;
      this.setState("offline");
      this.retryTimer = setTimeout(() => void this.connect(), this.backoff());
      return;
    }
    if ((this.state as LinkState) === "stopped" || this.entity !== entity) return;
    this.failures = 0;
    this.lastHeard = Date.now();
    this.setState("online");
    log.info({ domain, host, port }, "component link online");
    this.startPinging();
    this.flush();
  }

  private lost(entity: Component): void {
    // While connecting, connect() itself handles the failure.
    if (this.entity !== entity || this.state !== "online") return;
    this.entity = null;
    this.stopPinging();
    this.drops += 1;
    // The server may close the socket before its stream error is read (a write then fails with
    // EPIPE), so a loss without one counts too, only less; a server that stopped answering or said
    // it is going away does not count.
    const condition = this.streamError ?? "connection closed";
    if (!this.timedOut && !INNOCENT_STREAM_ERRORS.has(condition)) this.blame(condition, this.streamError !== undefined);
    // What the dead connection never confirmed goes out again, in its original order.
    this.queue = [...this.unconfirmed, ...this.queue];
    this.unconfirmed = [];
    this.barrierRunning = false;
    this.rejectIqs(new LinkDownError("the link to the XMPP server went down"));
    this.setState("offline");
    this.log.warn({ domain: this.domain, queued: this.queue.length }, "component link lost; reconnecting");
    this.retryTimer = setTimeout(() => void this.connect(), this.options.reconnectMinMs);
  }

  /**
   * The server closed the stream while these stanzas were unconfirmed: with a stream error that
   * names the fault (`named`), or silently. A stanza alone in flight that had been blamed before is
   * the cause when the server named a fault, or when it closed silently on it alone several times
   * (a restarting server closes silently too, and once or twice is chance): it is set aside. Every
   * other one gets a strike, which makes the next connection send them one at a time.
   */
  private blame(condition: string, named: boolean): void {
    const [only] = this.unconfirmed;
    const alone = this.unconfirmed.length === 1 && only !== undefined && only.strikes > 0;
    if (alone && !named) only.silentAlone += 1;
    if (alone && (named || only.silentAlone >= SILENT_CLOSES_TO_REFUSE)) {
      this.unconfirmed = [];
      const { name, attrs } = only.element;
      this.log.error(
        { domain: this.domain, condition, closes: only.strikes + 1, stanza: name, to: attrs.to, from: attrs.from, id: attrs.id },
        "the XMPP server closed the stream on a stanza sent alone; it is set aside",
      );
      this.emit("refused", only.element, condition);
      only.reject(new StanzaRefusedError(condition));
      return;
    }
    for (const item of this.unconfirmed) item.strikes += 1;
  }

  private backoff(): number {
    const { reconnectMinMs, reconnectMaxMs } = this.options;
    const base = Math.min(reconnectMaxMs, reconnectMinMs * 2 ** Math.min(this.failures, 16));
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  private receive(stanza: Element): void {
    this.lastHeard = Date.now();
    const { type, id } = stanza.attrs;
    if (stanza.name === "iq" && (type === "result" || type === "error") && id) {
      const pending = this.iqs.get(id);
      if (pending) {
        this.iqs.delete(id);
        clearTimeout(pending.timer);
        if (type === "result") pending.resolve(stanza);
        else {
          const error = stanza.getChild("error");
          const condition = error?.getChildElements().find((child) => child.name !== "text")?.name ?? "unknown";
          const text = error?.getChildText("text", "urn:ietf:params:xml:ns:xmpp-stanzas") ?? "";
          pending.reject(Object.assign(new Error(`iq ${id} to ${stanza.attrs.from ?? "?"} answered with ${condition}${text ? `: ${text}` : ""}`), { stanza }));
        }
        return;
      }
    }
    this.emit("stanza", stanza);
  }

  /** Stanzas queued in one turn of the event loop go out together, in one write to the socket:
   *  under load most turns handle several messages, and each write costs a system call that, on a
   *  loopback socket, also runs the server's side of TCP. */
  private flushSoon(): void {
    if (this.flushTimer) return;
    this.flushTimer = setImmediate(() => {
      this.flushTimer = null;
      this.flush();
    });
  }

  private flush(): void {
    const entity = this.entity;
    if (!entity || this.state !== "online" || this.queue.length === 0) return;
    // A suspect stanza goes alone, and nothing follows it until the server has confirmed it.
    if (this.unconfirmed.some((item) => item.strikes > 0)) return;
    const suspect = this.queue.findIndex((item) => item.strikes > 0);
    const batch = suspect === 0 ? this.queue.splice(0, 1) : this.queue.splice(0, suspect === -1 ? this.queue.length : suspect);
    entity.socket?.cork();
    for (const item of batch) {
      this.unconfirmed.push(item);
      entity.send(item.element).catch(() => {
        // A failed write means the socket is going away; lost() puts the item back in the queue.
      });
    }
    this.runBarrier();
    entity.socket?.uncork();
  }

  private runBarrier(): void {
    if (this.barrierRunning || this.unconfirmed.length === 0 || this.state !== "online") return;
    this.barrierRunning = true;
    const covered = this.unconfirmed.length;
    const settle = (): void => {
      this.barrierRunning = false;
      const done = this.unconfirmed.splice(0, covered);
      for (const item of done) item.resolve();
      this.flush();
      this.runBarrier();
    };
    this.ping().then(settle, (error: Error & { stanza?: Element }) => {
      // An error answer is still an answer: everything before it was handled.
      if (error.stanza) return settle();
      this.barrierRunning = false;
      if (!(error instanceof LinkDownError)) this.declareDead(error);
    });
  }

  private ping(): Promise<Element> {
    return this.request(
      xml("iq", { type: "get", to: this.options.serverDomain, from: this.domain, id: `ping-${randomUUID()}` }, xml("ping", { xmlns: "urn:xmpp:ping" })),
    );
  }

  private startPinging(): void {
    this.stopPinging();
    this.pingTimer = setInterval(() => {
      if (this.state !== "online" || Date.now() - this.lastHeard < this.options.pingIntervalMs) return;
      this.ping().catch((error: Error & { stanza?: Element }) => {
        if (!error.stanza && !(error instanceof LinkDownError)) this.declareDead(error);
      });
    }, this.options.pingIntervalMs);
    this.pingTimer.unref();
  }

  private stopPinging(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private declareDead(error: Error): void {
    if (error instanceof IqTimeoutError) this.timedOut = true;
    this.log.warn({ domain: this.domain, reason: error.message }, "component link unresponsive; reconnecting");
    this.entity?.socket?.destroy();
  }

  private rejectIqs(error: Error): void {
    for (const pending of this.iqs.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.iqs.clear();
  }

  private setState(state: LinkState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit("state", state);
    this.emit(state);
  }
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

// What a transport may use of the core: the contract, the error it throws, the table it keeps its
// state in, the user id, the HTTP router for its webhooks, the media store, and the network guard.
// A transport imports from src/transport/ and nowhere else in src/ (.dependency-cruiser.cjs).
export type * from "./contract.js";
export { GatewayError, gatewayError, type StanzaCondition } from "../errors.js";
export type { Table } from "../store/store.js";
export type { BareJid } from "../xmpp/jid.js";
export { HttpError, type HttpHandler, type HttpRouter, type RouteOptions } from "../http/router.js";
export * from "./net-guard.js";
export { createKeyedQueue, type KeyedQueue } from "./keyed-queue.js";
export { readBoundedBody } from "./body.js";
export { recordAfterSend } from "./after-send.js";
export { createRateLimiter, type RateLimiter } from "./rate-limit.js";

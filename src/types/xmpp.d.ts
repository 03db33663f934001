// Just enough typing for the parts of xmpp.js we use; the packages ship none.
declare module "@xmpp/xml-element" {
  export interface Element {
    name: string;
    attrs: Record<string, string | undefined>;
    children: Array<Element | string>;
    parent?: Element | null;
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    getText(): string;
    text(): string;
    append(...children: Array<Element | string>): Element;
    toString(): string;
  }
  export type XmlChild = Element | string | undefined | null | false | XmlChild[];
  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: XmlChild[]): Element;
}

declare module "@xmpp/component-core" {
  import { EventEmitter } from "node:events";
  import type { Element, xml as xmlFn } from "@xmpp/xml-element";
  export class Component extends EventEmitter {
    constructor(options: { service: string; domain: string; timeout?: number });
    status: string;
    socket?: import("node:net").Socket | null;
    options: { service: string; domain: string };
    connect(service: string): Promise<void>;
    open(options: { domain: string; lang?: string }): Promise<Element>;
    authenticate(id: string, password: string): Promise<void>;
    send(el: Element): Promise<void>;
    disconnect(timeout?: number): Promise<void>;
    stop(): Promise<void>;
  }
  export const xml: typeof xmlFn & { parse?: (s: string) => Element };
}

declare module "@xmpp/client" {
  import { EventEmitter } from "node:events";
  import type { Element, xml as xmlFn } from "@xmpp/xml-element";
  export interface Client extends EventEmitter {
    jid?: { toString(): string; bare(): { toString(): string } };
    status: string;
    socket?: import("node:net").Socket | null;
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(el: Element): Promise<void>;
    iqCaller: { request(el: Element, timeout?: number): Promise<Element> };
    iqCallee: { get(xmlns: string, name: string, handler: (ctx: { stanza: Element; element: Element }) => Element | Promise<Element>): void };
    reconnect: { stop(): void };
  }
  export function client(options: Record<string, unknown>): Client;
  export const xml: typeof xmlFn;
}

declare module "ltx" {
  export function parse(text: string): unknown;
}

// Attachments of incoming messages uploaded to the XMPP server's own HTTP File Upload service
// (XEP-0363: Prosody's mod_http_file_share, ejabberd's mod_http_upload), by the component, so that
// users fetch them from their own server. Whatever goes wrong there (no service, a refusal, a file
// over the service's limit, a slot we do not trust, a failed PUT), the attachment goes to the
// gateway's own media store instead, and the log says why: an upload never costs a message.
// https://xmpp.org/extensions/xep-0363.html
import type { Logger } from "pino";
import type { Attachment, MediaStore } from "../transport/contract.js";
import { xml, type Element } from "../xmpp/xml.js";

const NS_UPLOAD = "urn:xmpp:http:upload:0";
const NS_INFO = "http://jabber.org/protocol/disco#info";
const NS_ITEMS = "http://jabber.org/protocol/disco#items";

/** Headers a slot may name for the PUT; XEP-0363 §5 says to drop any other. */
const SLOT_HEADERS = new Set(["authorization", "cookie", "expires"]);
const MAX_URL_CHARS = 2_048;
const MAX_HEADER_CHARS = 4_096;
/** Items of the server's disco#items asked about when discovering (a server lists a handful). */
const MAX_DISCO_ITEMS = 20;
/** How long what the server said about its upload service is believed before it is asked again. */
const SERVICE_TTL_MS = 10 * 60_000;

/** The part of the component link an upload needs: iq round trips from the component's JID. */
export interface UploadLink {
  readonly domain: string;
  request(iq: Element, timeoutMs?: number): Promise<Element>;
}

export interface UploadOptions {
  link: UploadLink;
  /** The upload service's JID (e.g. upload.example.org), or "discover": the first item of the
   *  server domain's disco#items whose disco#info offers urn:xmpp:http:upload:0. */
  service: string;
  /** The XMPP server's domain, asked for its items when discovering. */
  serverDomain: string;
  /** Where attachments go when the upload service cannot take them: the gateway's media listener. */
  fallback: MediaStore;
  log: Logger;
  /** Each iq (disco, slot request) is answered within this, or the fallback takes over. Default 10 s. */
  iqTimeoutMs?: number;
  /** The PUT is done within this, or abandoned. Default 60 s plus a second per 100 kB. */
  putTimeoutMs?: (bytes: number) => number;
}

interface Service {
  jid: string;
  /** The largest file it takes, as its disco#info announces (none: no limit announced). */
  maxBytes?: number;
}

interface Slot {
  put: string;
  get: string;
  headers: Record<string, string>;
}

/** The reason an upload was not made: logged, then the fallback store keeps the attachment. */
class NotUploaded extends Error {}

export function createUploadMediaStore(options: UploadOptions): MediaStore {
  const { link, fallback } = options;
  const log = options.log.child({ upload: options.service });
  const iqTimeoutMs = options.iqTimeoutMs ?? 10_000;
  const putTimeoutMs = options.putTimeoutMs ?? ((bytes: number) => 60_000 + Math.ceil(bytes / 100_000) * 1_000);
  let known: { service: Service | null; at: number } | undefined;
  let finding: Promise<Service | null> | undefined;

  const request = (iq: Element): Promise<Element> => link.request(iq, iqTimeoutMs);

  const infoOf = async (jid: string): Promise<Service | null> => {
    const reply = await request(xml("iq", { type: "get", to: jid }, xml("query", { xmlns: NS_INFO })));
    const query = reply.getChild("query", NS_INFO);
    if (!query?.getChildren("feature").some((feature) => feature.attrs.var === NS_UPLOAD)) return null;
    return { jid, ...maxFileSize(query) };
  };

  const discover = async (): Promise<Service | null> => {
    if (options.service !== "discover") return infoOf(options.service);
    const reply = await request(xml("iq", { type: "get", to: options.serverDomain }, xml("query", { xmlns: NS_ITEMS })));
    const items = (reply.getChild("query", NS_ITEMS)?.getChildren("item") ?? [])
      .map((item) => item.attrs.jid)
      .filter((jid): jid is string => typeof jid === "string" && jid.length > 0 && jid.length <= 1_023 && !jid.includes("/"))
      .slice(0, MAX_DISCO_ITEMS);
    // Asked side by side, so that discovery takes two iq timeouts at most; the first listed wins.
    const found = await Promise.all(items.map((jid) => infoOf(jid).catch(() => null)));
    return found.find((service) => service !== null) ?? null;
  };

  /** The upload service as last found, asked again after SERVICE_TTL_MS or after it failed us. */
  const service = async (): Promise<Service | null> => {
    if (known && Date.now() - known.at < SERVICE_TTL_MS) return known.service;
    finding ??= discover()
      .then((found) => {
        if (found) log.info({ service: found.jid, maxBytes: found.maxBytes }, "attachments are uploaded to the XMPP server's upload service");
        else
          log.warn(
            { serverDomain: options.serverDomain },
            "the XMPP server offers no HTTP upload service (XEP-0363) to this component; attachments are served by the gateway",
          );
        known = { service: found, at: Date.now() };
        return found;
      })
      .finally(() => (finding = undefined));
    return finding;
  };

  const requestSlot = async (target: Service, input: { data: Buffer; mediaType: string; filename: string }): Promise<Slot> => {
    let reply: Element;
    try {
      reply = await request(
        xml(
          "iq",
          { type: "get", to: target.jid },
          xml("request", { xmlns: NS_UPLOAD, filename: input.filename, size: String(input.data.length), "content-type": input.mediaType }),
        ),
      );
    } catch (error) {
      const stanza = (error as { stanza?: Element }).stanza;
      const problem = stanza?.getChild("error");
      // A service that is gone, or no longer lets us in, is looked up again next time.
      if (!problem || problem.attrs.type === "cancel" || problem.attrs.type === "auth") known = undefined;
      throw new NotUploaded(`the upload service refused a slot: ${(error as Error).message}`);
    }
    return parseSlot(reply);
  };

  const upload = async (input: { data: Buffer; mediaType: string; name?: string }): Promise<Attachment> => {
    const target = await service().catch((error: unknown) => {
      known = undefined;
      throw new NotUploaded(`the upload service could not be asked: ${(error as Error).message}`);
    });
    if (!target) throw new NotUploaded("no upload service");
    if (target.maxBytes !== undefined && input.data.length > target.maxBytes) {
      throw new NotUploaded(`the file is ${input.data.length} bytes, over the ${target.maxBytes} bytes the upload service takes`);
    }
    const mediaType = cleanMediaType(input.mediaType);
    const filename = cleanFilename(input.name);
    const slot = await requestSlot(target, { data: input.data, mediaType, filename });
    let response: Response;
    try {
      response = await fetch(slot.put, {
        method: "PUT",
        body: input.data,
        headers: { ...slot.headers, "content-type": mediaType },
        // A redirect would send the file (and the slot's credentials) somewhere the slot did not name.
        redirect: "manual",
        signal: AbortSignal.timeout(putTimeoutMs(input.data.length)),
      });
    } catch (error) {
      throw new NotUploaded(`the PUT to the upload service failed: ${(error as Error).message}`);
    }
    await response.body?.cancel().catch(() => undefined);
    if (response.status !== 200 && response.status !== 201) throw new NotUploaded(`the upload service answered the PUT with HTTP ${response.status}`);
    return { url: slot.get, mediaType, size: input.data.length, ...(input.name !== undefined && { name: filename }) };
  };

  return {
    async put(input) {
      try {
        return await upload(input);
      } catch (error) {
        const reason = error instanceof NotUploaded ? error.message : `the upload failed: ${(error as Error).message}`;
        log.info({ reason, bytes: input.data.length }, "attachment kept by the gateway's media listener instead of the XMPP server's upload service");
        return fallback.put(input);
      }
    },
  };
}

/** The max-file-size a service announces in its XEP-0128 form (XEP-0363 §3). */
function maxFileSize(query: Element): { maxBytes?: number } {
  for (const form of query.getChildren("x", "jabber:x:data")) {
    const fields = form.getChildren("field");
    if (!fields.some((field) => field.attrs.var === "FORM_TYPE" && field.getChildText("value") === NS_UPLOAD)) continue;
    const value = fields
      .find((field) => field.attrs.var === "max-file-size")
      ?.getChildText("value")
      ?.trim();
    if (value && /^\d{1,15}$/.test(value)) return { maxBytes: Number(value) };
  }
  return {};
}

/** The slot's URLs and headers, or NotUploaded when they are not what XEP-0363 allows. */
export function parseSlot(reply: Element): Slot {
  const slot = reply.getChild("slot", NS_UPLOAD);
  const put = slot?.getChild("put");
  const get = slot?.getChild("get");
  const putUrl = httpUrl(put?.attrs.url);
  const getUrl = httpUrl(get?.attrs.url);
  if (!putUrl || !getUrl) throw new NotUploaded("the upload service gave a slot without usable http(s) URLs");
  const headers: Record<string, string> = {};
  for (const header of put!.getChildren("header")) {
    const name = String(header.attrs.name ?? "").toLowerCase();
    const value = header
      .getText()
      .replace(/[\r\n]+/g, " ")
      .trim();
    if (!SLOT_HEADERS.has(name) || value.length === 0 || value.length > MAX_HEADER_CHARS) continue;
    headers[name] = value;
  }
  return { put: putUrl, get: getUrl, headers };
}

/** An absolute http(s) URL without credentials, of a sane length; anything else is undefined. */
function httpUrl(text: unknown): string | undefined {
  if (typeof text !== "string" || text.length === 0 || text.length > MAX_URL_CHARS) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.username || url.password) return undefined;
  return url.href;
}

/** A file name the service accepts: no path separators or control characters, not empty. */
function cleanFilename(name: string | undefined): string {
  const clean = (name ?? "")
    .replace(/[\\/\u0000-\u001f\u007f]/g, "_")
    .trim()
    .slice(0, 200);
  return clean && clean !== "." && clean !== ".." ? clean : "attachment";
}

/** The type without its parameters, when it looks like one; otherwise application/octet-stream. */
function cleanMediaType(mediaType: string): string {
  const type = (mediaType.split(";")[0] ?? "").trim().toLowerCase();
  return /^[\w.+-]{1,64}\/[\w.+-]{1,128}$/.test(type) ? type : "application/octet-stream";
}

// Chat attachments (XEP-0066 OOB URLs) fetched for a mail: attached up to a size cap, else linked.
import type { Logger } from "pino";
import { fetch, type Dispatcher } from "undici";
import type { Attachment } from "../../src/transport/contract.js";
import { guardedAgent, type Resolver } from "../../src/transport/net-guard.js";

export interface FetchedAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

export interface OutgoingAttachments {
  attached: FetchedAttachment[];
  /** URLs that stay links in the body (too large, unreachable, or not http). */
  linked: string[];
}

export interface FetchOptions {
  maxBytes: number;
  timeoutMs: number;
  /** Fetch from loopback and private networks too (trials and tests only). */
  allowPrivate: boolean;
  /** Name resolution for the connect step (tests give their own). */
  resolve?: Resolver;
  log: Logger;
}

export async function fetchAttachments(items: Attachment[], options: FetchOptions): Promise<OutgoingAttachments> {
  const result: OutgoingAttachments = { attached: [], linked: [] };
  if (items.length === 0) return result;
  // A user must not make the gateway fetch from its own network and mail the result out: every
  // connection of this agent goes only to an address checked in its connect step.
  const dispatcher = guardedAgent({
    allowPrivate: options.allowPrivate,
    role: "attachment host",
    connectTimeoutMs: options.timeoutMs,
    ...(options.resolve && { resolve: options.resolve }),
  });
  let budget = options.maxBytes;
  try {
    for (const item of items) {
      const fetched =
        budget > 0
          ? await fetchOne(item, budget, dispatcher, options).catch((error: unknown) => {
              options.log.info({ reason: reasonOf(error) }, "could not fetch a chat attachment; sending it as a link");
              return undefined;
            })
          : undefined;
      if (fetched) {
        budget -= fetched.content.length;
        result.attached.push(fetched);
      } else {
        result.linked.push(item.url);
      }
    }
  } finally {
    await dispatcher.destroy().catch(() => undefined);
  }
  return result;
}

async function fetchOne(item: Attachment, maxBytes: number, dispatcher: Dispatcher, options: FetchOptions): Promise<FetchedAttachment | undefined> {
  if (!/^https?:\/\//i.test(item.url)) return undefined;
  if (item.size !== undefined && item.size > maxBytes) return undefined;
  // Redirects stay links: the file is where the user said, or it is not attached.
  const response = await fetch(item.url, { dispatcher, signal: AbortSignal.timeout(options.timeoutMs), redirect: "manual" });
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    if (response.status >= 300 && response.status < 400) return undefined;
    throw new Error(`HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get("content-length") ?? "NaN");
  if (declared > maxBytes) {
    await response.body.cancel();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > maxBytes) return undefined; // leaving the loop cancels the download
    chunks.push(Buffer.from(chunk));
  }
  const contentType = (response.headers.get("content-type") ?? item.mediaType ?? "application/octet-stream").split(";")[0]!.trim();
  return { filename: item.name ?? filenameOf(item.url), contentType, content: Buffer.concat(chunks) };
}

/** fetch wraps connect failures (a refused private address among them) in a TypeError's cause. */
function reasonOf(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
}

function filenameOf(url: string): string {
  try {
    const last = new URL(url).pathname.split("/").filter(Boolean).pop();
    return last ? decodeURIComponent(last) : "attachment";
  } catch {
    return "attachment";
  }
}

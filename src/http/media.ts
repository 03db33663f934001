// Attachments that arrive by e-mail or MMS, kept on disk (within a quota, oldest out first) and
// served at unguessable URLs.
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readFile, readdir, rm, stat, writeFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Logger } from "pino";
import { GatewayError } from "../errors.js";
import type { Attachment, MediaStore } from "../transport/contract.js";

export type { MediaStore };
import { HttpError, type HttpRouter } from "./router.js";

/** The config's default for media.maxBytes, for callers that give none. */
export const DEFAULT_MEDIA_MAX_BYTES = 25 * 1024 * 1024;

interface MediaMeta {
  mediaType: string;
  name?: string;
  size: number;
  storedAt: string;
}

const ID = /^[A-Za-z0-9_-]{32}$/;

export function createMediaStore(options: {
  dir: string;
  router: HttpRouter;
  publicUrl: () => string;
  retentionDays: number;
  /** All attachments together stay within this many bytes. */
  maxBytes?: number;
  log: Logger;
}): MediaStore & { sweep(): Promise<number> } {
  const { dir, router, log } = options;
  const maxBytes = options.maxBytes ?? DEFAULT_MEDIA_MAX_BYTES;
  /** Puts one at a time, so that two cannot both count the same free room. */
  let putting: Promise<unknown> = Promise.resolve();

  router.add("GET", "/media/*", async (_req, res, url) => {
    const id = url.pathname.split("/")[2] ?? "";
    if (!ID.test(id)) throw new HttpError(404, "Not found");
    let meta: MediaMeta;
    let file: FileHandle;
    try {
      meta = JSON.parse(await readFile(join(dir, `${id}.json`), "utf8")) as MediaMeta;
      file = await open(join(dir, id), "r");
    } catch {
      throw new HttpError(404, "Not found (attachments are kept for a limited time)");
    }
    try {
      res.writeHead(200, {
        "content-type": meta.mediaType,
        "content-length": String(meta.size),
        "content-disposition": `inline; filename*=UTF-8''${encodeURIComponent(meta.name ?? id)}`,
        // Attachments come from strangers: never let the browser run or sniff them as our content.
        "x-content-type-options": "nosniff",
        "content-security-policy": "sandbox; default-src 'none'",
        "cache-control": "private, max-age=86400",
        "referrer-policy": "no-referrer",
      });
    } catch (error) {
      await file.close();
      throw error;
    }
    // pipeline destroys the file stream (and closes its descriptor) when the download is aborted.
    await pipeline(file.createReadStream(), res).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ERR_STREAM_PREMATURE_CLOSE") throw error;
    });
  });

  /** Bytes on disk as last counted: a count sets it, stores and removals move it. */
  let used: number | undefined;

  /** Every attachment on disk with its size and age; brings `used` up to date. */
  const count = async (): Promise<Array<{ id: string; size: number; at: number }>> => {
    const stored: Array<{ id: string; size: number; at: number }> = [];
    for (const file of await readdir(dir)) {
      if (!ID.test(file)) continue;
      const info = await stat(join(dir, file)).catch(() => null);
      if (info) stored.push({ id: file, size: info.size, at: info.mtimeMs });
    }
    used = stored.reduce((sum, entry) => sum + entry.size, 0);
    return stored;
  };

  /** Removes the oldest attachments until `incoming` more bytes fit in the quota. The folder is
   *  counted for real only at the first store and when the running total says it is full (another
   *  instance may share the folder), not at every attachment. */
  const makeRoom = async (incoming: number): Promise<void> => {
    if (used !== undefined && used + incoming <= maxBytes) return;
    const stored = await count();
    if (used! + incoming <= maxBytes) return;
    stored.sort((a, b) => a.at - b.at);
    let removed = 0;
    for (const entry of stored) {
      if (used! + incoming <= maxBytes) break;
      await remove(entry.id);
      used! -= entry.size;
      removed += 1;
    }
    log.info({ removed, quota: maxBytes }, "removed the oldest attachments to stay within the media quota");
  };

  const remove = async (id: string): Promise<void> => {
    // The description first: from then on the attachment is "not found", never half there.
    await rm(join(dir, `${id}.json`), { force: true });
    await rm(join(dir, id), { force: true });
  };

  const store = async ({ data, mediaType, name }: { data: Buffer; mediaType: string; name?: string }): Promise<Attachment> => {
    const cleanName = name?.replace(/[\\/\u0000-\u001f]/g, "_").slice(0, 200) || undefined;
    if (data.length > maxBytes) {
      const what = cleanName ? `The attachment ${cleanName}` : "An attachment";
      throw new GatewayError(
        "resource-constraint",
        `${what} is ${data.length} bytes, more than the ${maxBytes} bytes this gateway keeps for all attachments together.`,
        { code: "media-too-large" },
      );
    }
    // Attachments are strangers' files: readable by the gateway's user alone.
    if (await mkdir(dir, { recursive: true, mode: 0o700 })) await chmod(dir, 0o700);
    await makeRoom(data.length);
    const id = randomBytes(24).toString("base64url");
    await writeFile(join(dir, id), data, { mode: 0o600 });
    used = (used ?? 0) + data.length;
    const meta: MediaMeta = {
      mediaType: mediaType || "application/octet-stream",
      size: data.length,
      storedAt: new Date().toISOString(),
      ...(cleanName && { name: cleanName }),
    };
    await writeFile(join(dir, `${id}.json`), JSON.stringify(meta), { mode: 0o600 });
    const url = `${options.publicUrl()}/media/${id}/${encodeURIComponent(cleanName ?? "attachment")}`;
    return { url, mediaType: meta.mediaType, size: data.length, ...(cleanName && { name: cleanName }) };
  };

  return {
    put(input) {
      const done = putting.then(() => store(input));
      putting = done.catch(() => undefined);
      return done;
    },
    async sweep() {
      const cutoff = Date.now() - options.retentionDays * 86_400_000;
      let removed = 0;
      for (const file of await readdir(dir).catch(() => [] as string[])) {
        if (!file.endsWith(".json")) continue;
        const id = file.slice(0, -5);
        const info = await stat(join(dir, file)).catch(() => null);
        if (info && info.mtimeMs < cutoff) {
          await remove(id);
          removed += 1;
        }
      }
      if (removed > 0) {
        used = undefined; // counted again at the next store
        log.info({ removed }, "removed expired attachments");
      }
      return removed;
    },
  };
}

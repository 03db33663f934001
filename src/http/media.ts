// Attachments that arrive by e-mail or MMS, kept on disk and served at unguessable URLs.
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Attachment } from "../transport/contract.js";
import { HttpError, type HttpRouter } from "./router.js";

export interface MediaStore {
  /** Keep `data` and return the attachment with its public URL. */
  put(input: { data: Buffer; mediaType: string; name?: string }): Promise<Attachment>;
}

interface MediaMeta {
  mediaType: string;
  name?: string;
  size: number;
  storedAt: string;
}

const ID = /^[A-Za-z0-9_-]{32}$/;

export function createMediaStore(options: { dir: string; router: HttpRouter; publicUrl: () => string; retentionDays: number; log: Logger }): MediaStore & { sweep(): Promise<number> } {
  const { dir, router, log } = options;

  router.add("GET", "/media/*", async (_req, res, url) => {
    const id = url.pathname.split("/")[2] ?? "";
    if (!ID.test(id)) throw new HttpError(404, "Not found");
    let meta: MediaMeta;
    try {
      meta = JSON.parse(await readFile(join(dir, `${id}.json`), "utf8")) as MediaMeta;
    } catch {
      throw new HttpError(404, "Not found (attachments are kept for a limited time)");
    }
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
    await new Promise<void>((resolve, reject) => {
      createReadStream(join(dir, id)).on("error", reject).on("end", resolve).pipe(res);
    });
  });

  return {
    async put({ data, mediaType, name }) {
      await mkdir(dir, { recursive: true });
      const id = randomBytes(24).toString("base64url");
      const cleanName = name?.replace(/[\\/\u0000-\u001f]/g, "_").slice(0, 200) || undefined;
      await writeFile(join(dir, id), data);
      const meta: MediaMeta = { mediaType: mediaType || "application/octet-stream", size: data.length, storedAt: new Date().toISOString(), ...(cleanName && { name: cleanName }) };
      await writeFile(join(dir, `${id}.json`), JSON.stringify(meta));
      const url = `${options.publicUrl()}/media/${id}/${encodeURIComponent(cleanName ?? "attachment")}`;
      return { url, mediaType: meta.mediaType, size: data.length, ...(cleanName && { name: cleanName }) };
    },
    async sweep() {
      const cutoff = Date.now() - options.retentionDays * 86_400_000;
      let removed = 0;
      for (const file of await readdir(dir).catch(() => [] as string[])) {
        if (!file.endsWith(".json")) continue;
        const id = file.slice(0, -5);
        const info = await stat(join(dir, file)).catch(() => null);
        if (info && info.mtimeMs < cutoff) {
          await rm(join(dir, id), { force: true });
          await rm(join(dir, file), { force: true });
          removed += 1;
        }
      }
      if (removed > 0) log.info({ removed }, "removed expired attachments");
      return removed;
    },
  };
}

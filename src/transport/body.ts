// Reads a request body up to a limit: a declared or actual size over it is refused with 413, and
// the rest of the body is drained so that the connection can answer.
import type { IncomingMessage } from "node:http";
import { HttpError } from "../http/router.js";

export function readBoundedBody(req: IncomingMessage, maxBytes: number, what = "Request bodies"): Promise<Buffer> {
  if (Number(req.headers["content-length"] ?? "0") > maxBytes) {
    req.resume();
    return Promise.reject(new HttpError(413, `${what} are limited to ${maxBytes} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners("data");
        req.resume();
        reject(new HttpError(413, `${what} are limited to ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

// A provider's media download read into memory, whichever provider fetched it: the size is held to
// `maxBytes` (declared or counted), and every early exit cancels the body, whose unread rest would
// otherwise keep its connection open.
import { ProviderError } from "./provider.js";

export interface Media {
  data: Buffer;
  mediaType: string;
}

/** What is read of an answer: the global fetch's and undici's both fit. */
interface MediaResponse {
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  body: (AsyncIterable<unknown> & { cancel(): Promise<void> }) | null;
}

export async function readMedia(response: MediaResponse, maxBytes: number, temporary: (status: number) => boolean): Promise<Media> {
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new ProviderError(`fetching media answered HTTP ${response.status}`, { httpStatus: response.status, temporary: temporary(response.status) });
  }
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new ProviderError(`media is ${declared} bytes, more than ${maxBytes}`, { temporary: false });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += (chunk as Uint8Array).length;
    if (size > maxBytes) throw new ProviderError(`media is more than ${maxBytes} bytes`, { temporary: false });
    chunks.push(Buffer.from(chunk as Uint8Array));
  }
  return { data: Buffer.concat(chunks), mediaType: response.headers.get("content-type")?.split(";")[0]?.trim() || "application/octet-stream" };
}

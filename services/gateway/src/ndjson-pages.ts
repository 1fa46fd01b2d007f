import { Readable } from "node:stream";
import { toAppError, type RpcReply } from "@palimpsest/contracts";
import type { Logger } from "@palimpsest/platform";

export type PageCall = (cursor: string | undefined) => Promise<RpcReply>;

interface PageBody {
  chunk: string;
  nextCursor: string | null;
}

function pageOf(reply: RpcReply): PageBody {
  if (!reply.ok) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
  const body = reply.body as Partial<PageBody> | null;
  if (typeof body?.chunk !== "string" || (body.nextCursor !== null && typeof body.nextCursor !== "string")) {
    throw new Error("malformed page");
  }
  return { chunk: body.chunk, nextCursor: body.nextCursor };
}

/**
 * The body of a paged response: each page's text as it arrives, with at most one page asked for
 * ahead of what the client has read (the stream is not in object mode, so it pulls again only
 * below its byte high-water mark). A page that fails after the first ends the body with an
 * NDJSON error line, since the status has gone out already; the client going away stops the calls.
 */
export function ndjsonBody(first: RpcReply, call: PageCall, log: Logger): Readable {
  async function* pages(): AsyncGenerator<string> {
    let page = pageOf(first);
    for (;;) {
      // One page ahead: the service builds the next page while this one goes out.
      const next = page.nextCursor === null ? null : call(page.nextCursor);
      next?.catch(() => undefined);
      if (page.chunk) yield page.chunk;
      if (next === null) return;
      try {
        page = pageOf(await next);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        const known = typeof code === "string" ? { code, message: (err as Error).message } : toAppError(err).toBody().error;
        log.warn({ err }, "paged response failed part-way");
        yield `\n${JSON.stringify({ type: "error", code: known.code, message: `the export stopped: ${known.message}` })}\n`;
        return;
      }
    }
  }
  return Readable.from(pages(), { objectMode: false, highWaterMark: 64 * 1024 });
}

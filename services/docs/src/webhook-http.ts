import http from "node:http";
import https from "node:https";
import dns from "node:dns";
import type { LookupFunction } from "node:net";
import { checkAddress, checkTargetUrl, type PrivateTargetPolicy } from "./webhook-targets.ts";

export interface AttemptResult {
  statusCode?: number;
  error?: string;
  durationMs: number;
}

/** How much of a receiver's answer is read (and thrown away) before the connection is let go. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * A lookup that refuses to connect to an address the policy forbids. The socket connects to the
 * address checked here, and no other, so a name that resolves to a public address for the check
 * and a private one for the connection (DNS rebinding) cannot slip through.
 */
function guardedLookup(policy: PrivateTargetPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "", 0);
      const list = addresses as dns.LookupAddress[];
      const refused = list.map((a) => checkAddress(a.address, policy)).find((v) => !v.ok);
      if (list.length === 0 || refused) {
        const reason = refused && !refused.ok ? refused.reason : "no address";
        return callback(Object.assign(new Error(`target refused: ${hostname} resolves to a forbidden address (${reason})`), { code: "WEBHOOK_TARGET_REFUSED" }), "", 0);
      }
      if (options.all) return callback(null, list);
      const first = list[0]!;
      callback(null, first.address, first.family);
    });
  };
}

/** Resolves a name and checks every address it has, for registration. */
export async function resolveAndCheck(hostname: string, policy: PrivateTargetPolicy): Promise<{ ok: true } | { ok: false; reason: string }> {
  let addresses: dns.LookupAddress[];
  try {
    addresses = await dns.promises.lookup(hostname, { all: true });
  } catch {
    return { ok: false, reason: `${hostname} does not resolve` };
  }
  for (const a of addresses) {
    const verdict = checkAddress(a.address, policy);
    if (!verdict.ok) return { ok: false, reason: `${hostname} resolves to a forbidden address (${verdict.reason})` };
  }
  return addresses.length > 0 ? { ok: true } : { ok: false, reason: `${hostname} does not resolve` };
}

/**
 * One attempt: POST the body, wait at most `timeoutMs` for the answer, follow no redirect (a 3xx
 * is a failure: a redirect could point anywhere, past the checks). Never throws.
 */
export function postOnce(opts: { url: string; body: string; headers: Record<string, string>; timeoutMs: number; policy: PrivateTargetPolicy }): Promise<AttemptResult> {
  const started = performance.now();
  const done = (r: Omit<AttemptResult, "durationMs">): AttemptResult => ({ ...r, durationMs: Math.round(performance.now() - started) });
  const target = checkTargetUrl(opts.url, opts.policy);
  if (!target.ok) return Promise.resolve(done({ error: `target refused: ${target.reason}` }));
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: Omit<AttemptResult, "durationMs">) => {
      if (settled) return;
      settled = true;
      resolve(done(r));
    };
    const send = target.url.protocol === "https:" ? https.request : http.request;
    const req = send(
      target.url,
      {
        method: "POST",
        headers: { ...opts.headers, "content-type": "application/json", "content-length": Buffer.byteLength(opts.body), "user-agent": "Palimpsest-Webhooks/1" },
        // An IP literal is never looked up; it was checked above.
        lookup: guardedLookup(opts.policy),
        timeout: opts.timeoutMs,
        agent: false,
      },
      (res) => {
        let read = 0;
        res.on("data", (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) res.destroy();
        });
        const status = res.statusCode ?? 0;
        const answer = () => finish(status >= 200 && status < 300 ? { statusCode: status } : { statusCode: status, error: status >= 300 && status < 400 ? "redirects are not followed" : `HTTP ${status}` });
        res.on("end", answer);
        res.on("close", answer);
        res.on("error", answer);
      },
    );
    const deadline = setTimeout(() => {
      req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    req.on("timeout", () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on("error", (err) => finish({ error: err.message.slice(0, 500) }));
    req.on("close", () => clearTimeout(deadline));
    req.end(opts.body);
  });
}

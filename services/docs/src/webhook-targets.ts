import ipaddr from "ipaddr.js";
import { MAX_WEBHOOK_URL_LENGTH } from "@palimpsest/contracts";

/**
 * Where webhooks may be sent: the SSRF rules, pure. A webhook makes this service send requests to
 * an address a user chose, from inside the deployment's network, so an address that is not a
 * public unicast one (private, loopback, link-local (cloud metadata), CGNAT, multicast,
 * unspecified, documentation, 6to4/Teredo/NAT64 wrappers ...) is refused unless configured otherwise.
 * The check runs at registration and again on the address each delivery connects to
 * (webhook-http.ts), so a name that resolves elsewhere later (DNS rebinding) is caught.
 *
 * | policy     | public | loopback | any other non-public |
 * |------------|--------|----------|----------------------|
 * | `false`    | yes    | no       | no                   |
 * | `loopback` | yes    | yes      | no                   |
 * | `true`     | yes    | yes      | yes                  |
 */
export type PrivateTargetPolicy = "false" | "loopback" | "true";

export type AddressVerdict = { ok: true } | { ok: false; reason: string };

/** Whether a request may connect to this IP address (v4 or v6 text form). */
export function checkAddress(address: string, policy: PrivateTargetPolicy): AddressVerdict {
  if (!ipaddr.isValid(address)) return { ok: false, reason: `not an IP address: ${address}` };
  let ip = ipaddr.parse(address);
  // An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is the IPv4 address it wraps.
  if (ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  const range = ip.range();
  // ipaddr.js calls every IPv6 address it has no name for "unicast", the deprecated IPv4-compatible
  // ::a.b.c.d included: of IPv6 only the global unicast block 2000::/3 is public.
  const globalV6 = ip.kind() === "ipv6" ? (ip as ipaddr.IPv6).match(ipaddr.IPv6.parse("2000::"), 3) : true;
  if (range === "unicast" && globalV6) return { ok: true };
  if (policy === "true") return { ok: true };
  if (policy === "loopback" && range === "loopback") return { ok: true };
  return { ok: false, reason: `${address} is a ${range === "unicast" ? "non-global" : range} address` };
}

/** `refused`: a well-formed URL that points where webhooks may not go (as opposed to a malformed one). */
export type UrlVerdict = { ok: true; url: URL; hostname: string; literal: boolean } | { ok: false; refused: boolean; reason: string };

/**
 * The URL's shape: http(s), no credentials in it (they would be sent to a third party and shown
 * in logs), a host, a sane length; and when the host is an IP literal (which is never looked up)
 * or a `localhost` name, whether it may be reached. A name is checked once it is resolved.
 */
export function checkTargetUrl(text: string, policy: PrivateTargetPolicy): UrlVerdict {
  if (text.length > MAX_WEBHOOK_URL_LENGTH) return { ok: false, refused: false, reason: `a webhook URL has at most ${MAX_WEBHOOK_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, refused: false, reason: "not a URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { ok: false, refused: false, reason: "a webhook URL is http or https" };
  if (url.username !== "" || url.password !== "") return { ok: false, refused: false, reason: "a webhook URL carries no credentials; check the signature instead" };
  if (url.hash !== "") return { ok: false, refused: false, reason: "a webhook URL has no fragment" };
  // WHATWG URL keeps IPv6 literals bracketed in `hostname`.
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (hostname === "") return { ok: false, refused: false, reason: "a webhook URL names a host" };
  if (ipaddr.isValid(hostname)) {
    const verdict = checkAddress(hostname, policy);
    return verdict.ok ? { ok: true, url, hostname, literal: true } : { ...verdict, refused: true };
  }
  // Resolvers answer these with loopback without asking DNS (RFC 6761).
  const lower = hostname.toLowerCase().replace(/\.$/, "");
  if (lower === "localhost" || lower.endsWith(".localhost")) {
    return policy === "false" ? { ok: false, refused: true, reason: `${hostname} is a loopback name` } : { ok: true, url, hostname, literal: false };
  }
  return { ok: true, url, hostname, literal: false };
}

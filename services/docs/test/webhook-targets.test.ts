import { describe, expect, it } from "vitest";
import { checkAddress, checkTargetUrl, type PrivateTargetPolicy } from "../src/webhook-targets.ts";

const allowed = (address: string, policy: PrivateTargetPolicy = "false") => checkAddress(address, policy).ok;

describe("webhook targets (SSRF)", () => {
  it("given a public address, when checked under any policy, then it may be reached", () => {
    for (const a of ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34"]) {
      for (const p of ["false", "loopback", "true"] as const) expect({ a, p, ok: allowed(a, p) }).toEqual({ a, p, ok: true });
    }
  });

  it("given an address that is not public unicast, when checked with private targets refused, then it is refused", () => {
    const internal = [
      "127.0.0.1", "127.1.2.3", "::1", // loopback
      "10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1", // private
      "169.254.169.254", "fe80::1", // link-local, cloud metadata
      "100.64.0.1", "100.127.255.254", // CGNAT
      "224.0.0.1", "239.255.255.250", "ff02::1", // multicast
      "0.0.0.0", "::", // unspecified
      "255.255.255.255", // broadcast
      "fd00::1", "fc00::1", // unique local
      "::ffff:10.0.0.1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", // IPv4-mapped
      "2002:0a00:0001::1", // 6to4 wrapping 10.0.0.1
      "64:ff9b::a00:1", // NAT64 wrapping 10.0.0.1
      "2001:db8::1", "192.0.2.1", // documentation
      "::7f00:1", "::a9fe:a9fe", "::a00:1", // IPv4-compatible (deprecated): loopback, metadata, private
      "4000::1", "100::1", // outside global unicast 2000::/3, discard-only
    ];
    for (const a of internal) expect({ a, ok: allowed(a) }).toEqual({ a, ok: false });
  });

  it("given loopback allowed, then loopback passes and every other internal address is still refused", () => {
    for (const a of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) expect({ a, ok: allowed(a, "loopback") }).toEqual({ a, ok: true });
    for (const a of ["10.0.0.1", "169.254.169.254", "fd00::1", "::ffff:10.0.0.1", "0.0.0.0"]) expect({ a, ok: allowed(a, "loopback") }).toEqual({ a, ok: false });
  });

  it("given private targets allowed, then internal addresses pass", () => {
    for (const a of ["10.0.0.1", "169.254.169.254", "fd00::1"]) expect(allowed(a, "true")).toBe(true);
  });

  it("given a URL, then its shape is checked: http(s), no credentials, no fragment, a host, a length cap", () => {
    const bad = ["ftp://example.com/", "file:///etc/passwd", "javascript:alert(1)", "https://user:pw@example.com/", "https://user@example.com/", "https://example.com/#x", "not a url", `https://example.com/${"a".repeat(2_100)}`];
    for (const u of bad) expect({ u, v: checkTargetUrl(u, "true") }).toMatchObject({ u, v: { ok: false, refused: false } });
    expect(checkTargetUrl("https://example.com/in?x=1", "false")).toMatchObject({ ok: true, hostname: "example.com", literal: false });
  });

  it("given a URL with an IP literal or a localhost name, then it is checked without resolving (decimal and bracketed forms too)", () => {
    for (const u of ["http://127.0.0.1/", "http://[::1]:8080/", "http://2130706433/", "http://0x7f.1/", "http://localhost/", "http://a.localhost./", "http://[::ffff:a9fe:a9fe]/", "http://169.254.169.254/"]) {
      expect({ u, v: checkTargetUrl(u, "false") }).toMatchObject({ u, v: { ok: false, refused: true } });
    }
    expect(checkTargetUrl("http://127.0.0.1:9/x", "loopback")).toMatchObject({ ok: true, literal: true });
    expect(checkTargetUrl("http://localhost:9/x", "loopback")).toMatchObject({ ok: true, literal: false });
  });
});

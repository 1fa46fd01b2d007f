import { describe, expect, it } from "vitest";
import { contentSecurityPolicy, strictTransportSecurity } from "../src/browser-policy.ts";
import { imageHostList } from "../src/config.ts";

describe("contentSecurityPolicy", () => {
  it("given no image hosts, when the policy is built, then only our own origin may serve scripts, styles, connections and pictures", () => {
    const policy = contentSecurityPolicy([]);
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain("img-src 'self' blob: data:;");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toMatch(/script-src[^;]*unsafe/);
  });

  it("given allowed image hosts, when the policy is built, then they are added to img-src and nowhere else", () => {
    const policy = contentSecurityPolicy(["https://images.example.com"]);
    expect(policy).toContain("img-src 'self' blob: data: https://images.example.com;");
    expect(policy.match(/images\.example\.com/g)).toHaveLength(1);
  });
});

describe("strictTransportSecurity", () => {
  it("is sent only over TLS and when turned on", () => {
    expect(strictTransportSecurity("https", 100)).toBe("max-age=100; includeSubDomains");
    expect(strictTransportSecurity("http", 100)).toBeNull();
    expect(strictTransportSecurity("https", 0)).toBeNull();
  });
});

describe("IMAGE_HOSTS", () => {
  const field = imageHostList("IMAGE_HOSTS", "");
  it("accepts https origins and one wildcard level, normalised", () => {
    expect(field.parse(undefined)).toEqual([]);
    expect(field.parse(" https://Images.Example.com/ , https://*.cdn.example.org:8443")).toEqual(["https://images.example.com", "https://*.cdn.example.org:8443"]);
  });

  it("refuses anything that would widen the policy: plain http, schemes, paths, bare wildcards, quoted keywords", () => {
    for (const bad of ["http://images.example.com", "https:", "*", "https://*", "https://a.example.com/path", "'unsafe-inline'", "data:", "https://a.example.com; script-src *"]) {
      expect(() => field.parse(bad), bad).toThrow(/IMAGE_HOSTS/);
    }
  });
});

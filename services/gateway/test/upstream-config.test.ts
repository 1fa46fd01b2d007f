import { describe, expect, it } from "vitest";
import { ConfigError } from "@palimpsest/platform";
import { DISCOVER, loadGatewayConfig } from "../src/config.ts";
import { staticUpstreams } from "../src/upstreams.ts";

describe("SYNC_URLS and FILES_URLS", () => {
  it("given neither, when the gateway loads its config, then it discovers both", () => {
    const config = loadGatewayConfig({});
    expect(config.syncUrls).toBe(DISCOVER);
    expect(config.filesUrls).toBe(DISCOVER);
  });

  it("given the keyword, when loaded, then it discovers; given a Service URL, then that fixed list is used", () => {
    expect(loadGatewayConfig({ SYNC_URLS: "discover" }).syncUrls).toBe(DISCOVER);
    const config = loadGatewayConfig({ SYNC_URLS: "ws://sync.palimpsest.svc:8083", FILES_URLS: "http://files-a:8084, http://files-b:8084" });
    expect(config.syncUrls).toEqual(["ws://sync.palimpsest.svc:8083"]);
    expect(config.filesUrls).toEqual(["http://files-a:8084", "http://files-b:8084"]);
  });

  it("given a URL of the wrong kind or not a URL, when loaded, then the gateway refuses to start and names both problems", () => {
    let error: unknown;
    try {
      loadGatewayConfig({ SYNC_URLS: "http://sync:8083", FILES_URLS: "files-8084" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([expect.stringMatching(/^SYNC_URLS: http:\/\/sync:8083 must start with ws:\/\//), expect.stringMatching(/^FILES_URLS is not a list of URLs/)]);
  });

  it("given a fixed list, when connections arrive, then each starts with the next entry", () => {
    const u = staticUpstreams(["ws://a", "ws://b"]);
    expect([u.pick(), u.pick(), u.pick()]).toEqual([["ws://a", "ws://b"], ["ws://b", "ws://a"], ["ws://a", "ws://b"]]);
    expect(u.count()).toBe(2);
  });
});

import { spawn } from "node:child_process";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { listensOn } from "../src/stores/service-process.ts";

describe("who listens on a port", () => {
  it("given a port this process listens on, then it is this process's and not another's", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 10000)"], { stdio: "ignore" });
    try {
      expect(listensOn(process.pid, port)).toBe(true);
      // What a test harness meets when another test's service holds the port it planned for one of its own.
      expect(listensOn(other.pid!, port)).toBe(false);
    } finally {
      other.kill();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(listensOn(process.pid, port)).toBe(false);
  });
});

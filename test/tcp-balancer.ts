import net from "node:net";

export interface TcpBalancer {
  url: string;
  close(): Promise<void>;
}

/**
 * What stands in front of the gateways in production (a Kubernetes Service, a load balancer), in
 * its simplest form: each new TCP connection goes to the next backend that accepts it, and a
 * backend that refuses (stopped) is skipped. Listens on 127.0.0.1 only.
 */
export async function startTcpBalancer(backends: () => number[]): Promise<TcpBalancer> {
  let turn = 0;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    open.add(client);
    client.pause();
    client.on("error", () => undefined);
    client.on("close", () => open.delete(client));
    const ports = backends();
    const start = turn++;
    const attempt = (i: number) => {
      if (client.destroyed) return;
      if (i >= ports.length) {
        client.destroy();
        return;
      }
      const upstream = net.connect({ host: "127.0.0.1", port: ports[(start + i) % ports.length]! });
      upstream.once("error", () => attempt(i + 1));
      upstream.once("connect", () => {
        upstream.removeAllListeners("error");
        open.add(upstream);
        upstream.on("error", () => client.destroy());
        upstream.on("close", () => {
          open.delete(upstream);
          client.end();
        });
        client.on("close", () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt(0);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Runs the local S3-compatible object store (s3rver) as its own process.
 * Usage: s3-server-main.ts <port> <directory> <bucket>
 */
import S3rver from "s3rver";

const [portArg, directory, bucket] = process.argv.slice(2);
if (!portArg || !directory || !bucket) {
  console.error("usage: s3-server-main.ts <port> <directory> <bucket>");
  process.exit(2);
}
const server = new S3rver({
  address: "127.0.0.1",
  port: Number(portArg),
  directory,
  silent: true,
  configureBuckets: [{ name: bucket }],
});
await server.run();
process.stdout.write(`s3rver listening on 127.0.0.1:${portArg}\n`);
const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

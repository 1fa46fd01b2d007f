/**
 * Runs the local S3-compatible object store (s3rver) as its own process.
 * Usage: s3-server-main.ts <port> <directory> <bucket> [<access key id> <secret access key>]
 */
import fs from "node:fs/promises";
import S3rver from "s3rver";
// @ts-expect-error: s3rver ships no types for its account registry
import { DUMMY_ACCOUNT } from "s3rver/lib/models/account.js";

const [portArg, directory, bucket, accessKeyId, secretAccessKey] = process.argv.slice(2);
// Services outside a local run refuse the store's built-in key pair; a local run uses its own.
if (accessKeyId && secretAccessKey) (DUMMY_ACCOUNT as { createKeyPair(id: string, secret: string): void }).createKeyPair(accessKeyId, secretAccessKey);
if (!portArg || !directory || !bucket) {
  console.error("usage: s3-server-main.ts <port> <directory> <bucket>");
  process.exit(2);
}
/**
 * Browsers upload to and download from presigned URLs across origins (the web app is served by
 * the gateway, the store listens elsewhere), which needs CORS on the bucket. Locally any origin
 * may: the URLs themselves carry the permission. A production bucket lists the app's origin.
 */
const cors = `<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`;
const server = new S3rver({
  address: "127.0.0.1",
  port: Number(portArg),
  directory,
  silent: true,
  configureBuckets: [{ name: bucket, configs: [cors] }],
});
/**
 * s3rver removes a deleted object's directories once they are empty, while a put into the same
 * prefix may be between creating them and opening its file: that put then fails (ENOENT) on a
 * stream nothing listens to, and the whole store process exits. Empty directories are kept
 * instead; listings are made from the object files, so they do not show.
 */
const store = (server as unknown as { store: { deleteObject(bucket: string, key: string): Promise<void>; getResourcePath(bucket: string, key: string, type: string): string } }).store;
store.deleteObject = async (bucket, key) => {
  await Promise.all(
    ["object", "object.md5", "metadata.json"].map((type) =>
      fs.unlink(store.getResourcePath(bucket, key, type)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "ENOENT") throw err;
      }),
    ),
  );
};
await server.run();
process.stdout.write(`s3rver listening on 127.0.0.1:${portArg}\n`);
const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

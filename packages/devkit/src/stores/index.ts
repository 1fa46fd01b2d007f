export { ManagedProcess, freePort, portAnswers, waitUntil, type ProcessOptions } from "./managed-process.ts";
export { natsServerBinaries, postgresBinDir, postgresUser, which } from "./binaries.ts";
export { natsOptionsFromEnv, natsUserEnv, readCredentials, startNatsServer, type NatsCluster, type NatsCredentials, type NatsNode, type NatsServerOptions } from "./nats-server.ts";
export { startPostgresServer, type PostgresServerOptions } from "./postgres-server.ts";
export { startRedisServer, type RedisServerOptions } from "./redis-server.ts";
export { startS3Server, tsxLoader, type S3ServerOptions } from "./s3-server.ts";
export { mailTo, startMailServer, type MailServer, type MailServerOptions, type ReceivedMail } from "./mail-server.ts";
export { repoRoot, startServiceProcess, type ServiceProcessOptions } from "./service-process.ts";
export { startStores, type StoreSet, type StoreOptions } from "./store-set.ts";

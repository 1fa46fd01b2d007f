# One image for every service and operator command of Palimpsest.
#
#   docker build -t palimpsest:0.1.0 .
#   docker run --read-only --tmpfs /tmp -e SERVICE=gateway palimpsest:0.1.0     (or: ... palimpsest:0.1.0 gateway)
#
# Commands: gateway, auth, docs, sync, files, history (the services), setup-streams,
# rebuild-projections, rotate-signing-key (operator commands, same environment as the services).
#
# The build stage runs scripts/build-image-tree.ts, the same script test/deploy/image-tree.test.ts
# runs before it starts every service from the tree it built: esbuild bundles of the TypeScript
# (workspace packages compiled in), the npm packages those bundles import and nothing else (native
# ones such as sharp and @node-rs/argon2 as npm installed them for this platform), and web/dist.
# Both stages use the same Debian release, so the native packages match the runtime's libc.

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Dependencies first, so source changes reuse this layer.
COPY package.json package-lock.json ./
COPY packages/contracts/package.json packages/contracts/
COPY packages/platform/package.json packages/platform/
COPY packages/devkit/package.json packages/devkit/
COPY services/gateway/package.json services/gateway/
COPY services/auth/package.json services/auth/
COPY services/docs/package.json services/docs/
COPY services/sync/package.json services/sync/
COPY services/files/package.json services/files/
COPY services/history/package.json services/history/
COPY web/package.json web/
RUN npm ci --no-audit --no-fund --loglevel=error
COPY . .
RUN NODE_ENV=production npx tsx scripts/build-image-tree.ts /out

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    WEB_DIST=/app/web/dist \
    TMPDIR=/tmp
WORKDIR /app
# Owned by root and not writable by the user that runs: the tree works on a read-only root
# filesystem; the only place written is /tmp (multipart uploads spooled by the files service).
COPY --from=build /out /app
# The node image's unprivileged user, by number so runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080 8081 8082 8083 8084 8085
ENTRYPOINT ["node", "--enable-source-maps", "/app/entrypoint.js"]
CMD []

# syntax=docker/dockerfile:1
# The mesh as a container: `npm start`'s command, run as an unprivileged user on a read-only root
# filesystem. Everything it writes goes to two volumes: the data dir (/data: the PKI, and the
# embedded database when DATABASE_URL is unset) and /tmp (tsx's compile cache, scratch files).
#
#   docker build -t c2pa-mesh .
#   docker run --read-only -v c2pa-data:/data --tmpfs /tmp -p 8443:8443 -p 8080:8080 -p 9464:9464 c2pa-mesh

ARG NODE_IMAGE=node:20-bookworm-slim

# Build stage: production dependencies only (TypeScript runs through tsx, a runtime dependency),
# and the web console built with Vite (the read-only runtime finds it current and builds nothing).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages ./packages
COPY services ./services
RUN npm ci --omit=dev --no-audit --no-fund \
  && node --import tsx packages/console/src/build-cli.ts \
  && npm cache clean --force

# Runtime stage: the application owned by root and read-only to the user that runs it.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    MESH_DATA_DIR=/data \
    MESH_HOST=0.0.0.0 \
    MESH_PORT=8443 \
    PKI_HTTP_PORT=8080 \
    MESH_METRICS_PORT=9464 \
    TMPDIR=/tmp \
    HOME=/tmp
WORKDIR /app
COPY --from=build /app /app
# The data dir belongs to the mesh user, so that a fresh volume mounted there inherits it.
RUN groupadd --system --gid 10001 mesh \
  && useradd --system --uid 10001 --gid mesh --home-dir /nonexistent --shell /usr/sbin/nologin mesh \
  && mkdir -p /data && chown 10001:10001 /data && chmod 0700 /data
USER 10001:10001
VOLUME ["/data", "/tmp"]
EXPOSE 8443 8080 9464
# /livez on the operations listener; Node's fetch, since the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.MESH_METRICS_PORT || 9464) + '/livez').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# package.json's start script, run by node directly: npm would want a writable home and cache,
# and would stand between the process and SIGTERM.
CMD ["node", "--max-semi-space-size=4", "--heap-growing-percent=100", "--import", "tsx", "packages/mesh/src/main.ts"]

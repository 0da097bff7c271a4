# evrotrust-signing: the HTTP service (callbacks, business API, health, metrics) and the Temporal worker,
# in one process. Used by docker-compose.yml; also runnable alone with TEMPORAL_ADDRESS and MONGODB_URI.
# The image holds production code only (src/, activities/, workflows/); the Evrotrust simulator that
# sandbox mode talks to is its own image, the `simulator` target below (docker-compose.yml builds both).
#
# How it runs: `node --import tsx src/main.ts`, the production entry point (`npm start` runs
# scripts/start.ts, which starts an embedded stack and then the same service), instead of compiling
# with `npm run build` (tsc) and running dist/. Reasons:
#  - the container then runs the same entry point and module layout that the test suite exercises;
#    a dist/ tree would be a second layout (paths such as the worker's workflowsPath, which the
#    Temporal worker bundles from source at start, and non-TypeScript files would have to be
#    mirrored into it) that nothing else tests;
#  - tsx is already a runtime dependency, so nothing extra is installed, and there is no build stage
#    that could drift from the sources. The cost is a few hundred milliseconds of esbuild transpiling
#    at start, next to the seconds the worker spends bundling the workflows anyway.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- dependencies: production packages only, exactly as locked ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the project runs without dependency install scripts (npm 11 skips them by default
# and the Temporal worker's bundler works without them); the native parts ship as prebuilt packages.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app

# Application files belong to root and are read-only for the service user; only the state directory
# (DATA_DIR, default .data: the sandbox key, API token and simulator state) is writable. A named
# volume mounted there starts as a copy of it, ownership included.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY activities ./activities
COPY workflows ./workflows
RUN mkdir -p /app/.data && chown node:node /app/.data

# The non-root user that the official Node image provides (uid 1000).
USER node

EXPOSE 3000

# /healthz answers while the process is up (/readyz also checks Temporal and MongoDB). The slim image
# has no curl or wget, so Node's own fetch does the probe.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "--import", "tsx", "src/main.ts"]

# ---- the Evrotrust simulator, for sandbox mode (docker-compose.yml's evrotrust-simulator) ----
# Development only: never part of the service image above. It reuses the Evrotrust codec in src/evrotrust.
FROM ${NODE_IMAGE} AS simulator
ENV NODE_ENV=production \
    SIMULATOR_HOST=0.0.0.0 \
    SIMULATOR_PORT=8090
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src/evrotrust ./src/evrotrust
COPY simulator ./simulator
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 8090
CMD ["node", "--import", "tsx", "simulator/main.ts"]

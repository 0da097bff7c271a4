# evrotrust-signing: one image, three commands (docker-compose.yml runs the api and the worker apart):
#
#   node dist/src/main.js          the whole service in one process (the default CMD)
#   node dist/src/api-main.js      the HTTP side: callbacks and their relay, business API, health,
#                                  metrics, the reconciler and the retention job; no worker
#   node dist/src/worker-main.js   the Temporal worker alone (signingWorkflow and its activities)
#
# Compiled, not run through tsx: the build stage runs `npm run build`, which compiles src/,
# activities/ and workflows/ to CommonJS in dist/ and pre-bundles the workflows with the SDK's
# bundleWorkflowCode (dist/workflow-bundle.js and -traced.js, from src/worker-bundle.ts). Why:
#  - the worker loads that bundle instead of running webpack over the workflow sources at every
#    start (seconds of CPU and ~100 MB of memory per worker start, per replica), as Temporal's own
#    production sample does; a compiled worker without the bundle refuses to start;
#  - the runtime image holds JavaScript and production packages only: no TypeScript, no tsx/esbuild,
#    no dev tools, no simulator, no scripts, no tests; plain `node`, nothing transpiled at start;
#  - test/build/dist.test.ts starts exactly this layout (dist/ + `npm ci --omit=dev` + the prune
#    below) with plain node and no tsx reachable, as the api and worker processes, through a signing.
#
# Node 24 (Active LTS, supported until April 2028): Node 20 is past its end of life (April 2026).
# Temporal's TypeScript SDK supports Node 20, 22 and 24 (its README); 1.24.0's native core bridge is
# a Node-API addon (stable ABI across Node versions) with prebuilds for linux x64/arm64 (glibc, which
# bookworm has). The suite and the dist test run on Node 20.19+ (the minimum in package.json);
# bench/image.sh starts the built service under the Node 24 binary.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: all packages (TypeScript, tsx for the bundling script), then npm run build ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the project runs without dependency install scripts (npm 11 skips them by default
# and the Temporal worker's bundler works without them); the native parts ship as prebuilt packages.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY activities ./activities
COPY workflows ./workflows
COPY scripts/build-workflow-bundle.ts ./scripts/
RUN npm run build

# ---- production packages only, exactly as locked, trimmed of what no process reads ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/prune-production-deps.sh /tmp/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && sh /tmp/prune-production-deps.sh /app \
 && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app

# Application files belong to root and are read-only for the service user; only the state directory
# (DATA_DIR, default .data: the sandbox key, API token) is writable. A named volume mounted there
# starts as a copy of it, ownership included.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY --from=build /app/dist ./dist
RUN mkdir -p /app/.data && chown node:node /app/.data

# The non-root user that the official Node image provides (uid 1000).
USER node

EXPOSE 3000

# /healthz answers while the HTTP server is up (/readyz also checks Temporal and MongoDB). The slim
# image has no curl or wget, so Node's own fetch does the probe. This suits main.js and api-main.js;
# a worker-only container has no HTTP server: docker-compose.yml gives the worker its own check
# (its SDK metrics endpoint), and other orchestrators should too.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "dist/src/main.js"]

# ---- the Evrotrust simulator, for sandbox mode (docker-compose.yml's evrotrust-simulator) ----
# Development only: never part of the service image above. It runs from TypeScript through tsx (a
# dev dependency, from the build stage's full install) and reuses the Evrotrust codec in src/evrotrust
# and the helpers in src/lib it imports.
FROM ${NODE_IMAGE} AS simulator
ENV NODE_ENV=production \
    SIMULATOR_HOST=0.0.0.0 \
    SIMULATOR_PORT=8090
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src/evrotrust ./src/evrotrust
COPY src/lib ./src/lib
COPY simulator ./simulator
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 8090
CMD ["node", "--import", "tsx", "simulator/main.ts"]

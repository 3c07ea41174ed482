# The operator image: Node 24.9.0 exactly (the version the tests run on: devDependencies.node;
# a unit test keeps the two equal). The TypeScript is compiled in a build stage (npm run build:
# tsc -p tsconfig.build.json into dist/) and the image runs that JavaScript: type stripping at
# start-up would cost idle memory and start-up time (docs/benchmarks.md). Production
# dependencies only (test/integration/image-runs.test.ts builds and installs them the same way
# and starts the operator from them), non-root, and nothing written at run time, so the root
# filesystem can be read-only. No HEALTHCHECK: Kubernetes probes /healthz and /readyz.
FROM node:24.9.0-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24.9.0-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# Two malloc arenas instead of one per thread (glibc's default is 8 per core): V8's compiler and
# GC threads each filled one, ~15 MiB of RSS at a restart over 1,000 Certificates; not slower
# (docs/benchmarks.md).
ENV MALLOC_ARENA_MAX=2
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /build/dist ./dist
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["node", "dist/main.js"]

# The operator image: Node 24.9.0 exactly (the version the tests run on: devDependencies.node;
# a unit test keeps the two equal), TypeScript run directly by Node's type stripping,
# production dependencies only (test/integration/image-runs.test.ts installs them the same way
# and starts the operator from them), non-root, and nothing written at run time, so the root
# filesystem can be read-only. No HEALTHCHECK: Kubernetes probes /healthz and /readyz.
FROM node:24.9.0-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY src ./src
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["node", "src/main.ts"]

# The operator image: Node 24 (the same major the tests run on), TypeScript run directly by
# Node's type stripping, production dependencies only, non-root.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY src ./src
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["node", "src/main.ts"]

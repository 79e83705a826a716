# One image for every app; the compose service picks the app with SERVICE (apps/${SERVICE}/dist/main.js).
# Also runs the migrations (node packages/db/dist/src/migrate-cli.js) and the provider simulator
# (node packages/testing/dist/simulator/cli.js). No corepack: pnpm and turbo come from npm, pinned.

FROM node:20-bookworm-slim AS build
ENV TURBO_TELEMETRY_DISABLED=1 CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1
RUN npm install -g --no-audit --no-fund pnpm@12.21.0 turbo@2.11.11
WORKDIR /app
# dependencies first (cached while the lockfile does not change): `pnpm fetch` needs only the lockfile
COPY pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
RUN pnpm fetch
COPY . .
RUN pnpm install --frozen-lockfile --offline && pnpm turbo run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app /app
USER node
ENV SERVICE=router
CMD ["sh", "-c", "exec node apps/${SERVICE}/dist/main.js"]

# handoff in a container: a build stage packs the package as `npm pack` does for the registry, and
# the image installs that tarball the way a user installs the package (the production install in
# README.md; test/integration/package.test.ts runs the same commands). docs/deployment.md has more.

FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Scripts run once the sources are here: `prepare` generates the Prisma client and the seed from them.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
# `npm pack` runs `prepare` (Prisma client, the embedded database's seed) and `prepack` (the build).
RUN npm pack --pack-destination /pack && mv /pack/handoff-*.tgz /pack/handoff.tgz

FROM node:22-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data
WORKDIR /app
COPY --from=build /pack/handoff.tgz /tmp/handoff.tgz
RUN npm init -y \
 && npm pkg set 'allowScripts.@prisma/client=false' --json \
 && npm install --omit=dev --no-audit --no-fund /tmp/handoff.tgz \
 && rm /tmp/handoff.tgz && npm cache clean --force \
 && mkdir /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:3000/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# The settings come from the environment (compose.yaml, or `docker run -e`): see .env.example.
CMD ["node_modules/.bin/handoff"]

# One image for every role: `orderflow <api|relay|dispatcher|worker|operator|migrate|...>`.
# Build: DOCKER_BUILDKIT=1 docker build -t orderflow:dev .   (kind: kind load docker-image orderflow:dev)
# Behind a TLS-inspecting proxy, hand its CA bundle in as a secret (it never lands in a layer):
#   DOCKER_BUILDKIT=1 docker build --secret id=ca,src=/path/to/ca-bundle.crt -t orderflow:dev .
# scripts/cluster/images.sh app does that, and provides a local node:20-bookworm-slim where none can be pulled.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# Manifests first, so the dependency layer is reused until package-lock.json changes.
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca NODE_EXTRA_CA_CERTS=/run/secrets/ca npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY api ./api
COPY cli ./cli
COPY lib ./lib
COPY operator ./operator
COPY workers ./workers
# The web console (Vite), built into dist/console and served by the API at /.
COPY console ./console
RUN npm run build && npm prune --omit=dev --no-audit --no-fund --offline

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
# Owned by root and read-only to the app user: the processes write nothing to disk, which is what
# lets the chart run them with readOnlyRootFilesystem.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The node image's own unprivileged user, by number so runAsNonRoot can verify it without /etc/passwd.
USER 1000:1000
EXPOSE 8080 9100
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["api"]

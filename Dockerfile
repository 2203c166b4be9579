# callwright on Debian 12 with the system Chromium (no puppeteer browser download).
# Two stages: `build` has the dev dependencies that `npm run build` needs (typescript,
# esbuild); the image itself gets only the production dependencies, dist/, scenarios/
# and fixtures/, and runs as the base image's `node` user (uid 1000).
# scripts/replay-dockerfile.mjs replays these steps where no container engine runs
# (test/integration/container-image.test.ts).

FROM node:20-bookworm-slim AS build
# NODE_ENV stays unset here: with production set, npm ci would leave out the dev dependencies.
ENV PUPPETEER_SKIP_DOWNLOAD=1
WORKDIR /opt/callwright
COPY package.json package-lock.json .puppeteerrc.cjs ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
# --omit=optional as well: typescript (an optional peer of puppeteer's cosmiconfig) and
# @types/* would stay otherwise; the optional packages left out are never loaded at run time.
RUN npm run build \
 && npm prune --omit=dev --omit=optional --no-audit --no-fund

FROM node:20-bookworm-slim
# tini as PID 1 passes SIGTERM on to callwright (a graceful stop) and reaps the
# browser helpers that Chromium leaves to it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*

ENV CALLWRIGHT_CHROMIUM=/usr/lib/chromium/chromium \
    PUPPETEER_SKIP_DOWNLOAD=1 \
    NODE_ENV=production

WORKDIR /opt/callwright
COPY package.json ./
COPY --from=build /opt/callwright/node_modules ./node_modules
COPY --from=build /opt/callwright/dist ./dist
COPY scenarios ./scenarios
COPY fixtures ./fixtures
COPY helpers ./helpers
# The code stays root's and read-only to the user; only reports/ is the user's to write.
RUN mkdir -p reports && chown 1000:1000 reports

# `node` in the base image; numeric so that Kubernetes' runAsNonRoot can check it.
USER 1000:1000
# Reports go to a volume; /metrics binds 127.0.0.1 unless --metrics-host 0.0.0.0 is given.
VOLUME ["/opt/callwright/reports"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/cli/bin.js"]
CMD ["run", "scenarios/smoke.yaml", "--out", "reports/docker"]

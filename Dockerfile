# callwright on Debian 12 with the system Chromium (no puppeteer browser download).
FROM node:20-bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium ca-certificates \
 && rm -rf /var/lib/apt/lists/*

ENV CALLWRIGHT_CHROMIUM=/usr/lib/chromium/chromium \
    PUPPETEER_SKIP_DOWNLOAD=1 \
    NODE_ENV=production

WORKDIR /opt/callwright
COPY package.json package-lock.json .puppeteerrc.cjs ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY scenarios ./scenarios
COPY fixtures ./fixtures
RUN npm run build && npm prune --omit=dev

# Reports go to a volume; /metrics binds 127.0.0.1 unless --metrics-host 0.0.0.0 is given.
VOLUME ["/opt/callwright/reports"]
ENTRYPOINT ["node", "dist/cli/bin.js"]
CMD ["run", "scenarios/smoke.yaml", "--out", "reports/docker"]

# vibefixer-server — multi-stage build on the runtime tested here (Node 20, Debian 12).
#   docker build -t vibefixer-server .
#   docker run -d --name vibefixer -p 3333:3333 -v "$PWD/vibefixer-data:/data" --stop-timeout 30 vibefixer-server

# --- build: compile better-sqlite3 and the TypeScript sources ---------------------------------
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY workers ./workers
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

# --- runtime: only what runs, as a non-root user ------------------------------------------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PORT=3333 \
    HOST=0.0.0.0 \
    VIBEFIXER_DB_PATH=/data/vibefixer.sqlite
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3333
# SIGTERM triggers the final flush; give the container a stop timeout above
# VIBEFIXER_SHUTDOWN_TIMEOUT_MS (10 s by default), e.g. `docker run --stop-timeout 30`.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3333)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/server/main.js"]

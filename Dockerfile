# The assistant (web server + LiveKit agent worker) as one image. `npm run build` makes the
# browser page (Vite) and compiles the commands (esbuild, app/command-build.mjs), both
# production dependencies, here because the app runs as the unprivileged `node` user, who
# cannot write web/client/dist or node_modules/.cache at start. LiveKit's job processes
# load the TypeScript sources through tsx, also a production dependency.

# --- dependencies: production only, installed from the lockfile ---------------------------
FROM node:20-bookworm-slim AS dependencies
WORKDIR /app
# .npmrc must come before `npm ci`: it skips onnxruntime-node's GPU download (the CPU
# runtime the voice activity and end-of-turn models use ships in the package).
# patches/ too: the root postinstall applies them (patch-package) during `npm ci`.
COPY package.json package-lock.json .npmrc ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime -------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY . .
RUN npm run build
# The data folder (embedded database when DATABASE_URL is unset, uploaded files) is the
# one place the app writes; a named volume mounted here inherits this ownership.
# .data is the default DATA_DIR, for a DATA_DIR=.data copied over from a local .env.
RUN mkdir -p /data /app/.data && chown node:node /data /app/.data
USER node
EXPOSE 3000
CMD ["npm", "start"]

# keyward: attestation-gated key broker. Build: docker build -t keyward .
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
COPY console ./console
COPY openapi.yaml ./
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production KEYWARD_HOST=0.0.0.0 KEYWARD_PORT=8750 KEYWARD_DATA_DIR=/var/lib/keyward
RUN useradd --system --uid 10001 --home /var/lib/keyward keyward && mkdir -p /var/lib/keyward && chown keyward /var/lib/keyward
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json openapi.yaml ./
COPY bin ./bin
COPY migrations ./migrations
COPY policies ./policies
USER keyward
EXPOSE 8750
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.KEYWARD_PORT||8750)+'/readyz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
ENTRYPOINT ["node", "bin/keyward.js"]
CMD ["serve"]

FROM node:20.18.1-bookworm-slim AS web
WORKDIR /web
COPY static/package.json static/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY static/ ./
RUN npm run build

FROM python:3.12.8-slim-bookworm
WORKDIR /app
# The locked versions, every file checked against its hash; then the project alone, resolving
# nothing. The lock is its own layer, so a code change does not reinstall the dependencies.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY twinspace_rt ./twinspace_rt
COPY signaling ./signaling
COPY --from=web /web/dist ./static/dist
RUN pip install --no-cache-dir --no-deps . && useradd --create-home twinspace
USER twinspace
ENV TWINSPACE_HOST=0.0.0.0 TWINSPACE_DATA_DIR=/home/twinspace/data
EXPOSE 8000
CMD ["sh", "-c", "twinspace-rt db upgrade && twinspace-rt serve"]

FROM python:3.12-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY twinspace_rt ./twinspace_rt
COPY signaling ./signaling
RUN pip install --no-cache-dir . && useradd --create-home twinspace
USER twinspace
ENV TWINSPACE_HOST=0.0.0.0 TWINSPACE_DATA_DIR=/home/twinspace/data
EXPOSE 8000
CMD ["sh", "-c", "twinspace-rt db upgrade && twinspace-rt serve"]

FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1
COPY . .
RUN pip install --no-cache-dir . && mkdir -p .celery
EXPOSE 8000

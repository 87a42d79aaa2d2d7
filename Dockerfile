FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# The app runs as an unprivileged user with no login shell. The code stays owned by root, so a
# compromised process cannot rewrite it; only .celery (beat's schedule, the demo's queue) is its.
RUN groupadd --system --gid 10001 clinicmail \
    && useradd --system --uid 10001 --gid clinicmail --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin clinicmail
# Exactly the pinned, hashed packages (requirements-deploy.lock, made by `make lock`), then the
# project itself without resolving anything again.
COPY requirements-deploy.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements-deploy.lock
COPY . .
# Static files are collected once, here, and served by the app itself (whitenoise). Collecting
# reads the settings but touches no database or secret: DEBUG and a placeholder URL let it run.
RUN pip install --no-cache-dir --no-deps . \
    && DEBUG=true DATABASE_URL=postgres://build@localhost/build \
       python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p .celery \
    && chown clinicmail:clinicmail .celery
USER 10001:10001
EXPOSE 8000

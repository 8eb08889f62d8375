# The app as a container: python 3.11, the app's packages, bubblewrap for the check's sandbox,
# run as an unprivileged user. compose.yaml runs several of these behind nginx; docs/DEPLOY.md says how.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 bptt
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY --chown=root:root app.py ./
COPY --chown=root:root bptt ./bptt
COPY --chown=root:root pages ./pages
COPY --chown=root:root .streamlit ./.streamlit
# the app's user cannot write bptt/__pycache__: without this every replica's start compiles bptt from source
RUN python -m compileall -q bptt

USER bptt
EXPOSE 8501
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=2)"
CMD ["python", "-m", "streamlit", "run", "app.py", "--server.address", "0.0.0.0", "--server.port", "8501", \
     "--server.fileWatcherType", "none"]

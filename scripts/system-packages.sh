#!/usr/bin/env bash
# Installs and starts what the test suite needs from the system, where it is missing:
# openssl (signature checks without testament), poppler-utils (pdftoppm, to look at
# report PDFs), Chromium (browser tests of the workbench, and page capture at run time),
# systemd-analyze and docker-compose (checks of the files in deploy/; Compose without the
# Docker engine it recommends, as only `docker-compose config` runs), a PostgreSQL
# server on 127.0.0.1:5432, and the workers' brokers: Redis on 127.0.0.1:6379 and
# RabbitMQ on 127.0.0.1:5672 (guest/guest; its `rabbitmqctl` makes a vhost per test module).
set -euo pipefail

missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v rabbitmq-server >/dev/null || missing+=(rabbitmq-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v systemd-analyze >/dev/null || missing+=(systemd)
# On-screen text (testament.enrich.ocr): Tesseract's data for Armenian, Azerbaijani (Latin),
# Russian, Turkish and English, and its Cyrillic and Latin script models (script-cyrl,
# script-latn), which read the letters of Azerbaijani in Cyrillic and in Latin that the
# language models lack or lose; DejaVu fonts for the tests' burned-in text.
for lang in hye aze rus tur eng script-cyrl script-latn; do
  dpkg -s "tesseract-ocr-$lang" >/dev/null 2>&1 || missing+=("tesseract-ocr-$lang")
done
dpkg -s tesseract-ocr >/dev/null 2>&1 || missing+=(tesseract-ocr)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
# The same audio: Chromaprint's fpcalc; espeak-ng speaks the tests' soundtracks.
command -v fpcalc >/dev/null || missing+=(libchromaprint-tools)
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v docker-compose >/dev/null; then
  echo "installing: docker-compose"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! listening 6379; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 >/dev/null
fi
if ! listening 5672; then
  echo "starting RabbitMQ"
  rabbitmq-server -detached >/dev/null 2>&1
  for _ in $(seq 60); do listening 5672 && break; sleep 1; done
fi
if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
  echo "PostgreSQL at 127.0.0.1:5432 does not accept the postgres user without a password;" >&2
  echo "set TESTAMENT_TEST_POSTGRES_URL to a URL of a database the tests may create databases from." >&2
fi

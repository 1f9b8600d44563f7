#!/usr/bin/env bash
# Installs the system packages mock-interview needs (espeak-ng for speech, PortAudio for the
# microphone, sox for audio tools) when they are missing. Idempotent: does nothing when all are there.
# `system-deps.sh test` also installs what the tests need: Chromium, which they drive headless to
# check the HTML review pages, and sox's mp3 handler.
set -euo pipefail

missing=()
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
command -v sox >/dev/null 2>&1 || missing+=(sox)
# grep reads to the end: with -q it would stop early, and ldconfig's broken pipe fails the pipeline.
{ ldconfig -p 2>/dev/null | grep 'libportaudio\.so\.2' >/dev/null; } || missing+=(libportaudio2)
command -v arecord >/dev/null 2>&1 || missing+=(alsa-utils)
# The tests make an mp3 with sox, whose mp3 handler is only a recommended package.
if [ "${1:-}" = "test" ] && ! { sox -h 2>/dev/null | grep -w mp3 >/dev/null; }; then
    missing+=(libsox-fmt-mp3)
fi
if [ "${1:-}" = "test" ] && ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    # Debian calls it chromium; Ubuntu only has chromium-browser. Asked of /etc/os-release, not of apt's
    # lists, which a fresh machine may not have before the `apt-get update` below.
    if grep -qs '^ID=ubuntu' /etc/os-release; then
        missing+=(chromium-browser)
    else
        missing+=(chromium)
    fi
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "error: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
        sudo="sudo"
    fi
    echo "installing system packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "error: missing system packages: ${missing[*]}." >&2
    echo "Install them with your package manager (for example 'brew install espeak-ng portaudio sox' on macOS," >&2
    echo "'dnf install espeak-ng portaudio sox alsa-utils chromium' on Fedora), then run make again." >&2
    exit 1
fi

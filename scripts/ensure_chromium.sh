#!/usr/bin/env bash
# A headless Chromium for the report's browser tests (tests/test_report.py), and a Korean font so its
# screenshots show Hangul instead of boxes. Source this file and call ensure_chromium, or run it.
# Installs Debian's `chromium` (and `fonts-nanum`) with apt-get only when they are missing; needs root
# or password-less sudo. Returns non-zero when no browser could be provided (the tests then skip).

chromium_binary() {
    local name
    for name in chromium chromium-browser google-chrome google-chrome-stable; do
        if command -v "$name" >/dev/null 2>&1; then
            command -v "$name"
            return 0
        fi
    done
    return 1
}

has_korean_font() {
    command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=ko 2>/dev/null | head -n 1)" ]
}

ensure_chromium() {
    local missing=() sudo=()
    chromium_binary >/dev/null || missing+=(chromium)
    has_korean_font || missing+=(fonts-nanum)
    if [ ${#missing[@]} -eq 0 ]; then
        echo "chromium: $(chromium_binary)"
        return 0
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "ensure_chromium: no apt-get to install ${missing[*]}" >&2
        chromium_binary >/dev/null
        return
    fi
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            echo "ensure_chromium: installing ${missing[*]} needs root (or password-less sudo)" >&2
            chromium_binary >/dev/null
            return
        fi
    fi
    echo "ensure_chromium: installing ${missing[*]}"
    # The font is a nicety: a failure to get it must not cost the browser.
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
        && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
        || { [[ " ${missing[*]} " == *" chromium "* ]] \
             && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
    if chromium_binary >/dev/null; then
        echo "chromium: $(chromium_binary)"
        return 0
    fi
    echo "ensure_chromium: chromium is still missing" >&2
    return 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    ensure_chromium
fi

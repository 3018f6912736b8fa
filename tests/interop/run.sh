#!/usr/bin/env bash
# Interop suite: Parley.Crypto against the official libsignal (npm), in one process pair.
# Installs the pinned libsignal packages, builds the C# driver, runs every check and ends with
# "N passed, M failed"; exits non-zero when any check failed.
set -euo pipefail
cd "$(dirname "$0")"

node --version >/dev/null || { echo "node (>= 20) is required"; exit 2; }
npm ci --no-audit --no-fund --loglevel=error >/dev/null
node -e 'require("@signalapp/libsignal-client"); require("libsignal-x3dh")' \
  || { echo "libsignal native module does not load under $(node --version)"; exit 2; }

dotnet build Parley.Interop -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet Parley.Interop/bin/Release/net10.0/Parley.Interop.dll "$PWD/oracle.js"

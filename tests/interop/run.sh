#!/usr/bin/env bash
# Interop suite: Parley.Crypto against the official libsignal (npm), in one process pair.
# Installs the pinned libsignal packages, builds the C# driver, runs every check and ends with
# "N passed, M failed"; exits non-zero when any check failed.
set -euo pipefail
cd "$(dirname "$0")"

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$major" -ge 20 ] || { echo "node >= 20 is required (found: $(node --version 2>/dev/null || echo none))"; echo "0 passed, 1 failed"; exit 2; }
npm ci --no-audit --no-fund --loglevel=error >/dev/null
node -e 'for (const p of ["@signalapp/libsignal-client", "libsignal-pqxdh", "libsignal-x3dh"]) require(p)' \
  || { echo "libsignal native module does not load under $(node --version)"; echo "0 passed, 1 failed"; exit 2; }

dotnet build Parley.Interop -c Release --nologo -v quiet -clp:ErrorsOnly
dotnet Parley.Interop/bin/Release/net10.0/Parley.Interop.dll "$PWD/oracle.js"

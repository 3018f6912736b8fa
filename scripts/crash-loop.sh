#!/usr/bin/env bash
# Crash loop (docs/reliability.md): three SDK clients keep two-way traffic going while the server
# process is SIGKILLed KILLS times (default 100) at random moments and restarted on the same data;
# then an exactly-once checker judges what every client showed. Prints the figures; exits non-zero
# when a promise was broken. Usage: scripts/crash-loop.sh [KILLS]
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
kills="${1:-100}"
report=$(mktemp)
dotnet build tests/Parley.EndToEnd.Tests -c Release --nologo -v quiet -clp:ErrorsOnly || exit 1
PARLEY_CRASH_KILLS="$kills" PARLEY_CRASH_REPORT="$report" \
  dotnet test tests/Parley.EndToEnd.Tests -c Release --no-build --nologo \
  --filter "FullyQualifiedName~CrashLoopTests.Every_SENT_message_is_shown_exactly_once_in_order_across_server_kills" \
  --logger "console;verbosity=detailed" -- RunConfiguration.TestSessionTimeout=3600000
status=$?
echo "== crash loop"
cat "$report" 2>/dev/null || echo "no report (the run did not finish)"
rm -f "$report"
exit $status

#!/bin/sh
# check_page.sh PRINTER PROMTOOL: the sample metrics page passes `promtool check metrics` and
# holds every family it should (an empty page would pass promtool, so it is refused here).
set -eu
page=$("$1")
[ -n "$page" ] || { echo "empty metrics page"; exit 1; }
for family in sektorbro_messages_refused_total sektorbro_deadlines_overdue \
              sektorbro_commit_seconds_bucket sektorbro_metrics_label_refused_total; do
  printf '%s\n' "$page" | grep -q "^$family" || { echo "missing $family"; exit 1; }
done
if printf '%s\n' "$page" | grep -q '0101801234'; then echo "a CPR number on the page"; exit 1; fi
printf '%s\n' "$page" | "$2" check metrics
echo "promtool check metrics: ok"

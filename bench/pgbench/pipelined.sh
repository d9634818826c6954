#!/bin/sh
# pipelined.sh DIR writes into DIR pgbench scripts with create.sql's and
# list.sql's statements sent in fewer round trips (pgbench's \startpipeline
# and \endpipeline, PostgreSQL 14 and later): how much of their cost on the
# database is round trips rather than the statements' work.
#
#   create-rt5.sql  the invitation INSERT, the audit event and COMMIT in one
#                   round trip: BEGIN, access, invitee, job, [invitation,
#                   audit, COMMIT]
#   create-rt4.sql  as rt5, and BEGIN sent with the access read
#   create-rt2.sql  the reads with BEGIN in one round trip, the writes with
#                   COMMIT in the other: the fewest a create can take, as it
#                   decides what to write from what it read
#   list-rt1.sql    list.sql's two statements in one round trip
#
# The statements are create.sql's, in its order except that River's job goes
# before the invitation in rt5 and rt4 (it needs nothing the others return).
set -eu
dir=${1:?usage: pipelined.sh DIR}
here=$(dirname "$0")
src=$here/create.sql
head_=$(grep -v '^\(BEGIN\|SELECT\|INSERT\|WITH\|COMMIT\)' "$src")
access=$(grep '^SELECT o\.id' "$src")
invitee=$(grep "^SELECT 'i'" "$src")
invitation=$(grep '^INSERT INTO invitations' "$src")
job=$(grep '^INSERT INTO river_job' "$src")
audit=$(grep '^WITH audit' "$src")
begin='\startpipeline'
end='\endpipeline'

printf '%s\n' "$head_" BEGIN\; "$access" "$invitee" "$job" \
	"$begin" "$invitation" "$audit" COMMIT\; "$end" >"$dir/create-rt5.sql"
printf '%s\n' "$head_" "$begin" BEGIN\; "$access" "$end" "$invitee" "$job" \
	"$begin" "$invitation" "$audit" COMMIT\; "$end" >"$dir/create-rt4.sql"
printf '%s\n' "$head_" "$begin" BEGIN\; "$access" "$invitee" "$end" \
	"$begin" "$invitation" "$job" "$audit" COMMIT\; "$end" >"$dir/create-rt2.sql"

printf '%s\n' "$begin" >"$dir/list-rt1.sql"
grep -v '^--' "$here/list.sql" >>"$dir/list-rt1.sql"
printf '%s\n' "$end" >>"$dir/list-rt1.sql"

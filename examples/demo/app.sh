#!/bin/sh
# A stand-in for gunicorn: says what it sees in the database, then serves until SIGTERM.
trap 'echo "app: got SIGTERM, finishing requests and exiting 0"; exit 0' TERM
echo "app: started as pid $$, $(psql -X -At -c 'SELECT count(*) FROM todo') todos in the database"
while :; do sleep 0.1; done

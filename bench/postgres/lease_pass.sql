-- The cost of one lease pass on PostgreSQL with 100,000 deliveries held by one broker, before
-- and after schema version 7 (docs/performance.md, "PostgreSQL's lease pass"). Statement level:
-- the pass's statements as postgres_leases.cpp runs them (the "after" part) and as it ran them
-- at 703f5bc (the "before" part), on tables of the same shape, timed by psql. Run it in a
-- scratch database of any PostgreSQL 15, e.g. with a private server:
--   initdb -D /tmp/pgb/d -A trust && pg_ctl -D /tmp/pgb/d -o '-p 55432 -k /tmp/pgb' start
--   psql -h /tmp/pgb -p 55432 -q -f bench/postgres/lease_pass.sql postgres
-- It drops and creates the tables messages, delivery_leases and broker_leases.
DROP TABLE IF EXISTS delivery_leases;
DROP TABLE IF EXISTS broker_leases;
DROP TABLE IF EXISTS messages;
CREATE TABLE messages (id bigint PRIMARY KEY, state text NOT NULL, next_attempt_at bigint,
                       body text);
CREATE INDEX messages_pending ON messages (next_attempt_at, id) WHERE state = 'pending';
INSERT INTO messages SELECT g, 'pending', g, repeat('x', 1500) FROM generate_series(1, 100000) g;
\echo before (703f5bc): forget, then renew the row of every held lease; six passes
CREATE TABLE delivery_leases (message_id bigint PRIMARY KEY, owner text NOT NULL, lease_until bigint NOT NULL);
CREATE INDEX delivery_leases_owner ON delivery_leases (owner, lease_until);
INSERT INTO delivery_leases SELECT g, 'node-a', 1000 FROM generate_series(1,100000) g;
VACUUM ANALYZE;
\timing on
PREPARE renew(text, bigint, bigint) AS
WITH u AS (UPDATE delivery_leases l SET lease_until = $3 FROM messages m
WHERE l.owner = $1 AND l.lease_until > $2 AND m.id = l.message_id AND m.state = 'pending' RETURNING l.message_id) SELECT count(*) FROM u;
PREPARE forget(text, bigint) AS DELETE FROM delivery_leases l WHERE (l.owner = $1 OR l.lease_until <= $2) AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = l.message_id AND m.state = 'pending');
EXECUTE forget('node-a', 500);
EXECUTE renew('node-a', 500, 2000);
EXECUTE forget('node-a', 1500);
EXECUTE renew('node-a', 1500, 3000);
EXECUTE forget('node-a', 2500);
EXECUTE renew('node-a', 2500, 4000);
EXECUTE forget('node-a', 3500);
EXECUTE renew('node-a', 3500, 5000);
EXECUTE forget('node-a', 4500);
EXECUTE renew('node-a', 4500, 6000);
EXECUTE forget('node-a', 5500);
EXECUTE renew('node-a', 5500, 7000);
DROP TABLE delivery_leases;
DEALLOCATE ALL;
\timing off
CREATE TABLE delivery_leases (message_id bigint PRIMARY KEY, owner text NOT NULL, lease_until bigint NOT NULL, epoch bigint);
CREATE INDEX delivery_leases_owner ON delivery_leases (owner, lease_until, epoch);
CREATE TABLE broker_leases (owner text PRIMARY KEY, epoch bigint NOT NULL, lease_until bigint NOT NULL);
INSERT INTO delivery_leases SELECT g, 'node-a', 1000, NULL FROM generate_series(1,100000) g;
VACUUM ANALYZE;
\timing on
PREPARE renew(text, bigint, bigint) AS
WITH alive AS (
  INSERT INTO broker_leases AS b (owner, epoch, lease_until) VALUES ($1::text, 1, $3::bigint)
  ON CONFLICT (owner) DO UPDATE SET
    epoch = CASE WHEN b.lease_until > $2::bigint THEN b.epoch ELSE b.epoch + 1 END,
    lease_until = CASE WHEN b.lease_until > $2::bigint THEN greatest(b.lease_until, $3::bigint) ELSE $3::bigint END
  RETURNING epoch
), adopted AS (
  UPDATE delivery_leases l SET lease_until = 9223372036854775807, epoch = alive.epoch
  FROM alive
  WHERE l.owner = $1::text AND l.lease_until > $2::bigint AND l.lease_until < 9223372036854775807
  RETURNING l.message_id
)
SELECT count(*) FROM (SELECT l.message_id FROM delivery_leases l JOIN alive ON l.epoch = alive.epoch
WHERE l.owner = $1::text AND l.lease_until = 9223372036854775807
UNION ALL SELECT message_id FROM adopted) x;
PREPARE forget AS DELETE FROM delivery_leases l WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = l.message_id AND m.state = 'pending');
\echo after (schema version 7): the first pass adopts the 100,000; then five steady passes
EXECUTE forget;
EXECUTE renew('node-a', 500, 2000);
EXECUTE forget;
EXECUTE renew('node-a', 1500, 3000);
EXECUTE forget;
EXECUTE renew('node-a', 2500, 4000);
EXECUTE forget;
EXECUTE renew('node-a', 3500, 5000);
EXECUTE forget;
EXECUTE renew('node-a', 4500, 6000);
EXECUTE forget;
EXECUTE renew('node-a', 5500, 7000);

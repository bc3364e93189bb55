-- The cost of one lease pass on PostgreSQL with 100,000 deliveries held by one broker, before
-- and after schema version 7 (docs/performance.md, "PostgreSQL's lease pass"). Statement level:
-- a pass's three statements (forget the settled, renew, claim) as postgres_leases.cpp runs them
-- (the "after" part) and as it ran them at 703f5bc (the "before" part), on tables of the same
-- shape, timed by psql; six passes each. After: the first pass adopts the 100,000 and claims
-- from every pending message (a broker's first claim); the next five claim from the leases that
-- ended, and as none has, read them only. Run it in a
-- scratch database of any PostgreSQL 15, e.g. with a private server:
--   initdb -D /tmp/pgb/d -A trust && pg_ctl -D /tmp/pgb/d -o '-p 55432 -k /tmp/pgb' start
--   psql -h /tmp/pgb -p 55432 -q -f bench/postgres/lease_pass.sql postgres
-- It drops and creates the tables messages, delivery_leases and broker_leases. The rows the
-- statements answer are received (as the broker receives them) and dropped (\o /dev/null).
\set ON_ERROR_STOP on
DROP TABLE IF EXISTS delivery_leases;
DROP TABLE IF EXISTS broker_leases;
DROP TABLE IF EXISTS messages;
DEALLOCATE ALL;
CREATE TABLE messages (id bigint PRIMARY KEY, receiver_endpoint text NOT NULL,
                       attempts integer NOT NULL, received_at bigint NOT NULL,
                       state text NOT NULL, next_attempt_at bigint NOT NULL, body text);
CREATE INDEX messages_pending ON messages (next_attempt_at, id) WHERE state = 'pending';
INSERT INTO messages
SELECT g, 'psyk', 1, g, 'pending', g, repeat('x', 1500) FROM generate_series(1, 100000) g;

\echo before (703f5bc)
CREATE TABLE delivery_leases (message_id bigint PRIMARY KEY, owner text NOT NULL,
                              lease_until bigint NOT NULL);
CREATE INDEX delivery_leases_owner ON delivery_leases (owner, lease_until);
INSERT INTO delivery_leases SELECT g, 'node-a', 1000 FROM generate_series(1, 100000) g;
VACUUM ANALYZE;
PREPARE forget(text, bigint) AS
DELETE FROM delivery_leases l
WHERE (l.owner = $1 OR l.lease_until <= $2)
  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = l.message_id AND m.state = 'pending');
PREPARE renew(text, bigint, bigint) AS
UPDATE delivery_leases l SET lease_until = $3
FROM messages m
WHERE l.owner = $1 AND l.lease_until > $2 AND m.id = l.message_id AND m.state = 'pending'
RETURNING l.message_id;
PREPARE claim(text, bigint, bigint, bigint) AS
WITH free AS (
  SELECT m.id FROM messages m
  LEFT JOIN delivery_leases l ON l.message_id = m.id
  WHERE m.state = 'pending' AND (l.message_id IS NULL OR l.lease_until <= $2::bigint)
  ORDER BY m.next_attempt_at, m.id
  LIMIT $4::bigint
  FOR UPDATE OF m SKIP LOCKED
), taken AS (
  INSERT INTO delivery_leases (message_id, owner, lease_until)
  SELECT id, $1::text, $3::bigint FROM free
  ON CONFLICT (message_id) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
    WHERE delivery_leases.lease_until <= $2
  RETURNING message_id
)
SELECT m.id, m.receiver_endpoint, m.attempts, m.received_at, m.next_attempt_at
FROM messages m JOIN taken t ON t.message_id = m.id
ORDER BY m.next_attempt_at, m.id;
\o /dev/null
\timing on
EXECUTE forget('node-a', 500);
EXECUTE renew('node-a', 500, 2000);
EXECUTE claim('node-a', 500, 2000, 1000);
EXECUTE forget('node-a', 1500);
EXECUTE renew('node-a', 1500, 3000);
EXECUTE claim('node-a', 1500, 3000, 1000);
EXECUTE forget('node-a', 2500);
EXECUTE renew('node-a', 2500, 4000);
EXECUTE claim('node-a', 2500, 4000, 1000);
EXECUTE forget('node-a', 3500);
EXECUTE renew('node-a', 3500, 5000);
EXECUTE claim('node-a', 3500, 5000, 1000);
EXECUTE forget('node-a', 4500);
EXECUTE renew('node-a', 4500, 6000);
EXECUTE claim('node-a', 4500, 6000, 1000);
EXECUTE forget('node-a', 5500);
EXECUTE renew('node-a', 5500, 7000);
EXECUTE claim('node-a', 5500, 7000, 1000);
\timing off
\o

\echo after (schema version 7)
DROP TABLE delivery_leases;
DEALLOCATE ALL;
CREATE TABLE delivery_leases (message_id bigint PRIMARY KEY, owner text NOT NULL,
                              lease_until bigint NOT NULL, epoch bigint);
CREATE INDEX delivery_leases_owner ON delivery_leases (owner, lease_until, epoch);
CREATE TABLE broker_leases (owner text PRIMARY KEY, epoch bigint NOT NULL,
                            lease_until bigint NOT NULL);
INSERT INTO delivery_leases SELECT g, 'node-a', 1000, NULL FROM generate_series(1, 100000) g;
VACUUM ANALYZE;
PREPARE forget AS
DELETE FROM delivery_leases l
WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = l.message_id AND m.state = 'pending');
PREPARE renew(text, bigint, bigint) AS
WITH alive AS (
  INSERT INTO broker_leases AS b (owner, epoch, lease_until) VALUES ($1::text, 1, $3::bigint)
  ON CONFLICT (owner) DO UPDATE SET
    epoch = CASE WHEN b.lease_until > $2::bigint THEN b.epoch ELSE b.epoch + 1 END,
    lease_until = CASE WHEN b.lease_until > $2::bigint THEN greatest(b.lease_until, $3::bigint)
                       ELSE $3::bigint END
  RETURNING epoch
), adopted AS (
  UPDATE delivery_leases l SET lease_until = 9223372036854775807, epoch = alive.epoch
  FROM alive
  WHERE l.owner = $1::text AND l.lease_until > $2::bigint AND l.lease_until < 9223372036854775807
  RETURNING l.message_id
)
SELECT l.message_id FROM delivery_leases l JOIN alive ON l.epoch = alive.epoch
WHERE l.owner = $1::text AND l.lease_until = 9223372036854775807
UNION ALL
SELECT message_id FROM adopted;
PREPARE claim(text, bigint, bigint, bigint) AS
WITH free AS (
  SELECT m.id FROM messages m
  LEFT JOIN delivery_leases l ON l.message_id = m.id
  WHERE m.state = 'pending' AND (l.message_id IS NULL OR NOT (
    CASE WHEN l.lease_until <> 9223372036854775807 THEN l.lease_until > $2::bigint
    ELSE EXISTS (SELECT 1 FROM broker_leases b
                 WHERE b.owner = l.owner AND b.epoch = l.epoch AND b.lease_until > $2::bigint)
    END))
  ORDER BY m.next_attempt_at, m.id
  LIMIT $4::bigint
  FOR UPDATE OF m SKIP LOCKED
), taken AS (
  INSERT INTO delivery_leases (message_id, owner, lease_until)
  SELECT id, $1::text, $3::bigint FROM free
  ON CONFLICT (message_id) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until,
    epoch = NULL
    WHERE NOT (
      CASE WHEN delivery_leases.lease_until <> 9223372036854775807
           THEN delivery_leases.lease_until > $2::bigint
      ELSE EXISTS (SELECT 1 FROM broker_leases b
                   WHERE b.owner = delivery_leases.owner AND b.epoch = delivery_leases.epoch
                     AND b.lease_until > $2::bigint)
      END)
  RETURNING message_id
)
SELECT m.id, m.receiver_endpoint, m.attempts, m.received_at, m.next_attempt_at
FROM messages m JOIN taken t ON t.message_id = m.id
ORDER BY m.next_attempt_at, m.id;
PREPARE ended(bigint) AS
SELECT l.message_id FROM delivery_leases l
WHERE l.lease_until <= $1::bigint AND l.lease_until < 9223372036854775807
UNION ALL
SELECT l.message_id FROM broker_leases b
JOIN delivery_leases l ON l.owner = b.owner AND l.lease_until = 9223372036854775807
  AND l.epoch = b.epoch
WHERE b.lease_until <= $1::bigint
UNION ALL
SELECT l.message_id FROM broker_leases b
JOIN delivery_leases l ON l.owner = b.owner AND l.lease_until = 9223372036854775807
  AND l.epoch < b.epoch;
\o /dev/null
\timing on
EXECUTE forget;
EXECUTE renew('node-a', 500, 2000);
EXECUTE claim('node-a', 500, 2000, 1000);
EXECUTE forget;
EXECUTE renew('node-a', 1500, 3000);
EXECUTE ended(1500);
EXECUTE forget;
EXECUTE renew('node-a', 2500, 4000);
EXECUTE ended(2500);
EXECUTE forget;
EXECUTE renew('node-a', 3500, 5000);
EXECUTE ended(3500);
EXECUTE forget;
EXECUTE renew('node-a', 4500, 6000);
EXECUTE ended(4500);
EXECUTE forget;
EXECUTE renew('node-a', 5500, 7000);
EXECUTE ended(5500);
\timing off
\o

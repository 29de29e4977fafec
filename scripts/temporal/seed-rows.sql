-- :rows Temporal-like rows in one statement, for the migration's tests and benchmark:
-- half in namespace ns-a and half in ns-b, start times over the last :rows seconds, a third
-- closed (with close time, history length and size, duration, state transitions), memos of
-- 16 bytes, search attributes of five types. psql -v rows=1000000 -f seed-rows.sql
INSERT INTO executions_visibility (namespace_id, run_id, _version, start_time, execution_time, workflow_id, workflow_type_name,
  status, close_time, history_length, history_size_bytes, execution_duration, state_transition_count, memo, encoding, task_queue,
  search_attributes, root_workflow_id, root_run_id)
SELECT CASE WHEN i % 2 = 0 THEN 'ns-a' ELSE 'ns-b' END, md5('run' || i)::uuid::text, i,
       date_trunc('second', now()) - make_interval(secs => i), date_trunc('second', now()) - make_interval(secs => i),
       'seeded-' || i, 'OrderWorkflow', CASE WHEN i % 3 = 0 THEN 2 ELSE 1 END,
       CASE WHEN i % 3 = 0 THEN date_trunc('second', now()) - make_interval(secs => i / 2) END,
       CASE WHEN i % 3 = 0 THEN i % 700 END, CASE WHEN i % 3 = 0 THEN i * 13 END,
       CASE WHEN i % 3 = 0 THEN (i / 2)::bigint * 1000000000 END, CASE WHEN i % 3 = 0 THEN i % 300 END,
       decode(md5('memo' || i), 'hex'), 'Proto3', 'queue-' || (i % 8),
       jsonb_build_object('Keyword01', 'customer-' || (i % 1000), 'Int01', i, 'Double01', i / 7.0, 'Bool01', i % 2 = 0,
                          'Datetime01', to_char(now() - make_interval(secs => i), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
       'seeded-' || i, md5('run' || i)::uuid::text
FROM generate_series(1, :rows) AS i;

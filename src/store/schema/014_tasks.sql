-- Tasks (work orders, docs/tasks.md): something a rep should do for one
-- doctor within a due window — call, message, visit, invite to a meeting,
-- send content, follow up — made by a person, a rule, a model or an
-- experiment arm (source, source_ref) with a reason shown to the rep.
-- hcp_id and assignee_id are internal ids (hcps, reps); times are µs since
-- the epoch. status moves open → in_progress → done | cancelled | expired
-- (or from open straight to one of the three) and never back: tasks/task.c
-- keeps that. fulfilled_event / fulfilled_seq name the event that did it
-- (matched by the server, or given by hand). A rep's dismissal is status
-- cancelled with dismiss_reason: the feedback the next-best-action engine
-- learns from (task_feedback below).
CREATE TABLE tasks (
  id @ID@,
  type TEXT NOT NULL,
  hcp_id BIGINT NOT NULL REFERENCES hcps(id),
  assignee_id BIGINT NOT NULL REFERENCES reps(id),
  due_from BIGINT NOT NULL,
  due_to BIGINT NOT NULL,
  priority INTEGER NOT NULL,
  status TEXT NOT NULL,
  source TEXT NOT NULL,
  source_ref TEXT,
  reason TEXT,
  channel TEXT,
  content TEXT,
  topic TEXT,
  fulfilled_event TEXT,
  fulfilled_seq BIGINT,
  dismiss_reason TEXT,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  closed_at BIGINT
);
-- a rep's list (Today, the team summary): by assignee, status and due time
CREATE INDEX tasks_assignee ON tasks(assignee_id, status, due_to);
-- a doctor's tasks, and the open ones the fulfilment matcher loads
CREATE INDEX tasks_hcp ON tasks(hcp_id, status);
-- what changed since a moment (other nodes' writes, followed every second)
CREATE INDEX tasks_updated ON tasks(updated_at);
-- the expiry sweep: the active tasks by due_to
CREATE INDEX tasks_active_due ON tasks(due_to) WHERE status IN ('open', 'in_progress');

-- Every change of a task, oldest first: created, status (from → to),
-- assignee, due window, priority, dismissed (note: the reason), fulfilled
-- (note: the event id), expired. by_login is NULL for the server's own
-- changes (fulfilment, expiry, chaining).
CREATE TABLE task_changes (
  id @ID@,
  task_id BIGINT NOT NULL REFERENCES tasks(id),
  at BIGINT NOT NULL,
  by_login TEXT,
  action TEXT NOT NULL,
  from_value TEXT,
  to_value TEXT,
  note TEXT,
  request_id TEXT
);
CREATE INDEX task_changes_task ON task_changes(task_id, id);

-- The reps' dismissals as feedback: which suggestion (source, source_ref,
-- type, channel, content, topic) for which doctor was turned down, by whom,
-- when and why.
CREATE VIEW task_feedback AS
  SELECT t.id AS task_id, t.hcp_id, t.assignee_id, t.type, t.source, t.source_ref, t.channel, t.content,
         t.topic, t.dismiss_reason AS reason, t.updated_by AS dismissed_by, t.closed_at AS dismissed_at
  FROM tasks t WHERE t.status = 'cancelled' AND t.dismiss_reason IS NOT NULL;

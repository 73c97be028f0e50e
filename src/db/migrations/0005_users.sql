-- People who log in to the dashboard. A user belongs to one workspace with one role; the same
-- e-mail address may be a user of several workspaces (each with its own password and role).
CREATE TABLE app_user (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL REFERENCES workspace (id),
  email text NOT NULL,
  name text,
  role text NOT NULL CHECK (role IN ('admin', 'analyst', 'manager', 'agent')),
  -- scrypt$N$r$p$salt$hash (base64): never the password.
  password_hash text NOT NULL,
  password_changed_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz
);
CREATE UNIQUE INDEX app_user_email ON app_user (workspace_id, lower(email));
CREATE INDEX app_user_login ON app_user (lower(email));

-- A signed-in browser. The cookie holds a 256-bit random token; only its SHA-256 is stored.
-- Requests that change something also carry csrf_token in a header (double submit).
CREATE TABLE user_session (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  workspace_id bigint NOT NULL,
  user_id bigint NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  token_hash bytea NOT NULL UNIQUE,
  csrf_token text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX user_session_user ON user_session (user_id);
CREATE INDEX user_session_expires ON user_session (expires_at);

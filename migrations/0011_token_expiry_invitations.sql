-- API tokens may expire, and workspace admins invite people instead of
-- adding them: nobody joins a workspace without accepting.

-- Unix seconds after which the token is refused; NULL: until revoked.
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;

-- A pending invitation. The name is kept as typed, and the account it names
-- (if any) is recorded privately: the inviting admin's answer and list look
-- the same whether or not the account exists, and only that account can
-- accept. Accepting, declining or cancelling deletes the row; the audit log
-- keeps the history.
CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    workspace_id INTEGER NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    username TEXT NOT NULL COLLATE NOCASE,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'accountant', 'viewer')),
    invited_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (workspace_id, username)
) STRICT;
CREATE INDEX invitations_by_user ON invitations (user_id);

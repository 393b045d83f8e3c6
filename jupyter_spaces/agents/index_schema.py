"""The session index's tables (see :mod:`jupyter_spaces.agents.index` for what each holds)."""

# Bump when the schema or the parsers' state layout changes: the index is then rebuilt (sessions
# whose transcripts are already gone are lost with it, which is acceptable for a rare upgrade).
SCHEMA_VERSION = 2
# A message's rowid is (part id << PART_SHIFT) + its ordinal in the part, so that full-text hits
# group by part (and so by session) from the FTS index alone, without a join per hit.
PART_SHIFT = 28

_SCHEMA = (
    """CREATE TABLE files(
      id INTEGER PRIMARY KEY,
      path TEXT NOT NULL UNIQUE,
      agent TEXT NOT NULL,
      role TEXT NOT NULL,
      dev INTEGER, ino INTEGER, size INTEGER, mtime_ns INTEGER,
      offset INTEGER NOT NULL DEFAULT 0,
      malformed INTEGER NOT NULL DEFAULT 0,
      state TEXT,
      gone INTEGER NOT NULL DEFAULT 0,
      error TEXT)""",
    """CREATE TABLE sessions(
      sid INTEGER PRIMARY KEY,
      agent TEXT NOT NULL,
      id TEXT NOT NULL,
      cwd TEXT,
      started REAL,
      last_activity REAL,
      is_subagent INTEGER NOT NULL DEFAULT 0,
      parent_id TEXT,
      gone INTEGER NOT NULL DEFAULT 0,
      data TEXT NOT NULL DEFAULT '{}',
      UNIQUE(agent, id))""",
    "CREATE INDEX sessions_last ON sessions(last_activity)",
    "CREATE INDEX sessions_cwd ON sessions(cwd)",
    "CREATE INDEX sessions_parent ON sessions(agent, parent_id)",
    """CREATE TABLE parts(
      pid INTEGER PRIMARY KEY,
      file_id INTEGER NOT NULL,
      sid INTEGER NOT NULL,
      session_id TEXT NOT NULL,
      active INTEGER NOT NULL DEFAULT 1,
      next_n INTEGER NOT NULL DEFAULT 0,
      data TEXT NOT NULL,
      UNIQUE(file_id, session_id))""",
    "CREATE INDEX parts_sid ON parts(sid)",
    """CREATE TABLE messages(
      mid INTEGER PRIMARY KEY,
      pid INTEGER NOT NULL,
      seq INTEGER NOT NULL,
      sub INTEGER NOT NULL,
      role TEXT NOT NULL,
      kind TEXT NOT NULL,
      time TEXT,
      text TEXT NOT NULL)""",
    "CREATE INDEX messages_order ON messages(pid, seq, sub)",
    """CREATE VIRTUAL TABLE messages_fts USING fts5(
      text, content='messages', content_rowid='mid', tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
      INSERT INTO messages_fts(rowid, text) VALUES (new.mid, new.text);
    END""",
    """CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
      INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.mid, old.text);
    END""",
    # One row per model response (see UsageEvent): kept with its part when the transcript is
    # deleted, replaced when the file is re-read. ``dup`` marks a Claude sub-agent's copy of a
    # response its parent session already counts (set when the sub-agent is merged).
    """CREATE TABLE usage(
      pid INTEGER NOT NULL,
      key TEXT NOT NULL,
      time REAL NOT NULL,
      model TEXT,
      input INTEGER NOT NULL,
      output INTEGER NOT NULL,
      cache_read INTEGER NOT NULL,
      cache_creation INTEGER NOT NULL,
      reasoning INTEGER NOT NULL,
      dup INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY(pid, key)) WITHOUT ROWID""",
    "CREATE INDEX usage_time ON usage(time)",
    """CREATE TABLE titles(
      agent TEXT NOT NULL,
      id TEXT NOT NULL,
      title TEXT NOT NULL,
      PRIMARY KEY(agent, id))""",
)
_TABLES = ("messages_fts", "messages", "usage", "parts", "sessions", "files", "titles")

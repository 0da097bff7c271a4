// PostgreSQL preparation for FerretDB's PostgreSQL backend.
//
// FerretDB 1.24 pushes an equality filter down as `_jsonb->$1 @> $2` (or `_jsonb#>$1 @> $2` for a
// dotted path), with the field name as a parameter, while its own indexes are btrees on
// `(_jsonb->'field')`: PostgreSQL can use neither for `@>`, so every lookup scans the table. This
// file makes those lookups index scans without changing FerretDB:
//   - an event trigger gives every btree index FerretDB creates a GIN (jsonb_path_ops) twin on the
//     expression its queries use, so `@>` can be answered from the index;
//   - the service connects with plan_cache_mode=force_custom_plan (see the URL the launcher builds),
//     so the planner sees the field name as a constant and matches the expression index.
//
// Modes: -prepare-postgresql URL (create the database if missing, install the trigger, mirror the
// indexes that already exist) and -drop-postgresql-databases URL -prefix P (drop a test run's
// databases). Exit code 3 means PostgreSQL could not be reached, so the launcher can fall back.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

const exitUnreachable = 3

// exitMissing: -must-exist was given and the database is not there (state that was dropped must not
// come back silently as an empty store).
const exitMissing = 4

// mirrorSQL installs the functions and the event trigger (idempotent).
const mirrorSQL = `
CREATE OR REPLACE FUNCTION evrotrust_ferretdb_mirror_index(idx oid) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  ix pg_index%ROWTYPE;
  am text;
  k int;
  expr text;
  keys text[];
  target text;
  tbl text;
BEGIN
  SELECT * INTO ix FROM pg_index WHERE indexrelid = idx;
  IF NOT FOUND THEN RETURN; END IF;
  SELECT a.amname INTO am FROM pg_class c JOIN pg_am a ON a.oid = c.relam WHERE c.oid = idx;
  IF am IS DISTINCT FROM 'btree' THEN RETURN; END IF; -- our own GIN twins end the recursion here
  tbl := ix.indrelid::regclass::text;
  FOR k IN 1..ix.indnatts LOOP
    expr := pg_get_indexdef(idx, k, true);
    IF expr !~ '^\(*_jsonb -> ' THEN CONTINUE; END IF;
    SELECT array_agg(replace(m[1], '''''', '''')) INTO keys
      FROM regexp_matches(expr, '''((?:[^'']|'''')*)''::text', 'g') AS m;
    IF keys IS NULL THEN CONTINUE; END IF;
    IF array_length(keys, 1) = 1 THEN
      target := format('(_jsonb -> %L::text)', keys[1]);
    ELSE
      target := format('(_jsonb #> %L::text[])', keys::text);
    END IF;
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin (%s jsonb_path_ops) WITH (fastupdate = off)',
      'fgin_' || md5(tbl || target), tbl, target);
  END LOOP;
END
$fn$;

CREATE OR REPLACE FUNCTION evrotrust_ferretdb_on_create_index() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  cmd record;
BEGIN
  FOR cmd IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX' LOOP
    PERFORM evrotrust_ferretdb_mirror_index(cmd.objid);
  END LOOP;
END
$fn$;

DO $do$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'evrotrust_ferretdb_gin_mirror') THEN
    CREATE EVENT TRIGGER evrotrust_ferretdb_gin_mirror ON ddl_command_end
      WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION evrotrust_ferretdb_on_create_index();
  END IF;
END
$do$;

-- indexes FerretDB made before the trigger existed (a database prepared by an older launcher)
SELECT evrotrust_ferretdb_mirror_index(i.indexrelid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast');
`

func connect(ctx context.Context, rawURL string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return pgx.Connect(ctx, rawURL)
}

// withDatabase returns rawURL pointing at database db.
func withDatabase(rawURL, db string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + db
	return u.String(), nil
}

func databaseOf(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", err
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" {
		return "", errors.New("the PostgreSQL URL names no database")
	}
	return db, nil
}

// connectMaintenance connects to the server's `postgres` database (to create or drop others);
// a server that does not answer ends the program with exitUnreachable.
func connectMaintenance(ctx context.Context, rawURL string) (*pgx.Conn, error) {
	maintenance, err := withDatabase(rawURL, "postgres")
	if err != nil {
		return nil, err
	}
	conn, err := connect(ctx, maintenance)
	if err != nil {
		unreachable(err)
	}
	return conn, nil
}

func unreachable(err error) {
	fmt.Fprintf(os.Stderr, "ferretdb: PostgreSQL unreachable: %v\n", err)
	os.Exit(exitUnreachable)
}

// preparePostgreSQL creates the database named by rawURL when missing (through the `postgres`
// maintenance database) and installs the GIN mirror in it. With mustExist a missing database ends
// the program with exitMissing instead.
func preparePostgreSQL(rawURL string, mustExist bool) error {
	ctx := context.Background()
	db, err := databaseOf(rawURL)
	if err != nil {
		return err
	}
	admin, err := connectMaintenance(ctx, rawURL)
	if err != nil {
		return err
	}
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, db).Scan(&exists); err != nil {
		admin.Close(ctx)
		return err
	}
	if !exists && mustExist {
		admin.Close(ctx)
		fmt.Fprintf(os.Stderr, "ferretdb: database %s does not exist\n", db)
		os.Exit(exitMissing)
	}
	if !exists {
		if _, err := admin.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{db}.Sanitize()); err != nil {
			admin.Close(ctx)
			return fmt.Errorf("create database %s: %w", db, err)
		}
	}
	admin.Close(ctx)

	conn, err := connect(ctx, rawURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, mirrorSQL); err != nil {
		// Event triggers need a superuser: without one FerretDB still runs on PostgreSQL, but scans.
		return fmt.Errorf("install the index mirror (needs a PostgreSQL superuser): %w", err)
	}
	return nil
}

// dropDatabases drops every database whose name starts with prefix (a test run's own).
// listDatabases names the databases whose names start with prefix.
func listDatabases(rawURL, prefix string) ([]string, error) {
	if len(prefix) < 4 {
		return nil, errors.New("refusing a database prefix shorter than 4 characters")
	}
	ctx := context.Background()
	conn, err := connectMaintenance(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname`, prefix)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func dropDatabases(rawURL, prefix string) error {
	names, err := listDatabases(rawURL, prefix)
	if err != nil {
		return err
	}
	ctx := context.Background()
	conn, err := connectMaintenance(ctx, rawURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, n := range names {
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{n}.Sanitize()+` WITH (FORCE)`); err != nil {
			return fmt.Errorf("drop database %s: %w", n, err)
		}
	}
	return nil
}

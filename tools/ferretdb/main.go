// Command ferretdb runs FerretDB v1.24 embedded, with the SQLite (or PostgreSQL) backend.
// The upstream binary built with `go install` panics at start (FerretDB issue #2982: it expects a
// generated version file that is not in the module), so the project builds this small wrapper instead.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	sqliteURL := flag.String("sqlite-url", "", "SQLite URL, e.g. file:/path/to/dir/ (the directory must exist; the URL must end in /)")
	postgresURL := flag.String("postgresql-url", "", "PostgreSQL URL (instead of -sqlite-url)")
	logLevel := flag.String("log-level", "warn", "log level: debug, info, warn, error")
	prepare := flag.String("prepare-postgresql", "", "prepare this PostgreSQL database (create it, install the index mirror) and exit")
	dropURL := flag.String("drop-postgresql-databases", "", "drop the databases named -prefix* on this PostgreSQL server and exit")
	listURL := flag.String("list-postgresql-databases", "", "print the databases named -prefix* on this PostgreSQL server, one per line, and exit")
	prefix := flag.String("prefix", "", "with -drop-/-list-postgresql-databases: the name prefix")
	mustExist := flag.Bool("must-exist", false, "with -prepare-postgresql: the database must exist already (exit 4 if not), never created")
	flag.Parse()

	switch {
	case *prepare != "":
		if err := preparePostgreSQL(*prepare, *mustExist); err != nil {
			log.Fatalf("ferretdb: %v", err)
		}
		return
	case *listURL != "":
		names, err := listDatabases(*listURL, *prefix)
		if err != nil {
			log.Fatalf("ferretdb: %v", err)
		}
		for _, n := range names {
			fmt.Println(n)
		}
		return
	case *dropURL != "":
		if err := dropDatabases(*dropURL, *prefix); err != nil {
			log.Fatalf("ferretdb: %v", err)
		}
		return
	}

	cfg := ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: parseLevel(*logLevel)})),
	}
	switch {
	case *postgresURL != "":
		cfg.Handler = "postgresql"
		cfg.PostgreSQLURL = *postgresURL
	case *sqliteURL != "":
		cfg.Handler = "sqlite"
		cfg.SQLiteURL = *sqliteURL
	default:
		fmt.Fprintln(os.Stderr, "ferretdb: give -sqlite-url file:<dir>/ or -postgresql-url")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	f, err := ferretdb.New(&cfg)
	if err != nil {
		log.Fatalf("ferretdb: %v", err)
	}
	log.Printf("ferretdb: listening on %s (%s backend)", *listen, cfg.Handler)
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		log.Fatalf("ferretdb: %v", err)
	}
}

func parseLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelWarn
	}
	return l
}

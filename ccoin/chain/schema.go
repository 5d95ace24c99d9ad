package chain

import (
	"errors"
	"fmt"
	"strconv"

	"ccoin/ccoin/kv"
	"ccoin/ccoin/rawdb"
)

// SchemaVersion is the layout of the data directory this software reads
// and writes (the history is at rawdb.SchemaVersion); Init stores it and
// Open refuses any other.
const SchemaVersion = rawdb.SchemaVersion

// checkSchema refuses a database written with another layout.
func checkSchema(db kv.Store) error {
	v, err := rawdb.ReadSchemaVersion(db)
	switch {
	case errors.Is(err, kv.ErrNotFound):
		return fmt.Errorf("%w: it has schema 1 (from before finality by votes), this ccoin needs %d", ErrSchema, SchemaVersion)
	case err != nil:
		return fmt.Errorf("%w: read schema version: %v", ErrCorrupt, err)
	}
	n, err := strconv.ParseUint(string(v), 10, 32)
	if err != nil {
		return fmt.Errorf("%w: schema version %q", ErrCorrupt, v)
	}
	if n != SchemaVersion {
		return fmt.Errorf("%w: it has schema %d, this ccoin needs %d", ErrSchema, n, SchemaVersion)
	}
	return nil
}

package replica

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Disk is a node's durable state: raft's hard state, the log after the
// last snapshot, and that snapshot.
type Disk interface {
	// Load returns what was saved: the snapshot (nil if none), the hard
	// state (nil if none) and the entries after the snapshot.
	Load() (*pb.Snapshot, *pb.HardState, []*pb.Entry, error)
	// Save writes a Ready's durable part: a snapshot from the leader
	// (which replaces the log), the entries (replacing those from their
	// first index on), the hard state. It returns once they are durable
	// when sync says so.
	Save(r *Ready, sync bool) error
	Close() error
}

// MemDisk is a Disk in memory: what survives a crash of the node in the
// fault-injection suite, and in tests.
type MemDisk struct {
	snap *pb.Snapshot
	hs   *pb.HardState
	ents []*pb.Entry
}

// Load returns copies of what was saved.
func (d *MemDisk) Load() (*pb.Snapshot, *pb.HardState, []*pb.Entry, error) {
	var snap *pb.Snapshot
	if d.snap != nil {
		snap = proto.Clone(d.snap).(*pb.Snapshot)
	}
	var hs *pb.HardState
	if d.hs != nil {
		hs = proto.Clone(d.hs).(*pb.HardState)
	}
	ents := make([]*pb.Entry, len(d.ents))
	for i, e := range d.ents {
		ents[i] = proto.Clone(e).(*pb.Entry)
	}
	return snap, hs, ents, nil
}

// Save keeps r's durable part.
func (d *MemDisk) Save(r *Ready, _ bool) error {
	if r.Snapshot != nil {
		d.snap, d.ents = r.Snapshot, nil
	}
	if len(r.Entries) > 0 {
		first := r.Entries[0].GetIndex()
		keep := d.ents[:0]
		for _, e := range d.ents {
			if e.GetIndex() < first {
				keep = append(keep, e)
			}
		}
		d.ents = append(keep, r.Entries...)
	}
	if r.HardState != nil {
		d.hs = r.HardState
	}
	if r.Compact != nil {
		d.snap = r.Compact
		keep := d.ents[:0]
		for _, e := range d.ents {
			if e.GetIndex() > r.Compact.GetMetadata().GetIndex() {
				keep = append(keep, e)
			}
		}
		d.ents = keep
	}
	return nil
}

// Close does nothing.
func (d *MemDisk) Close() error { return nil }

// BoltDisk is a Disk in a bbolt file: the entries by index, the hard
// state and the snapshot. A bbolt transaction is written and synced to
// disk when it commits.
type BoltDisk struct{ db *bolt.DB }

var (
	bucketEntries = []byte("entries")
	bucketState   = []byte("state")
	keyHardState  = []byte("hardstate")
	keySnapshot   = []byte("snapshot")
)

// OpenBolt opens (or makes) the node's file raft.db in dir.
func OpenBolt(dir string) (*BoltDisk, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("replica: data dir: %w", err)
	}
	path := filepath.Join(dir, "raft.db")
	// The log is appended to in key order: full pages, and a freelist
	// that is not written on every commit (bbolt rebuilds it on open).
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bolt.FreelistMapType, InitialMmapSize: 256 << 20})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("replica: %s is in use by another master (its file lock is held)", path)
		}
		return nil, fmt.Errorf("replica: %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketEntries, bucketState} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("replica: %s: %w", path, err)
	}
	return &BoltDisk{db: db}, nil
}

func indexKey(i uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], i)
	return k[:]
}

// Load reads the snapshot, the hard state and the entries after the
// snapshot.
func (d *BoltDisk) Load() (snap *pb.Snapshot, hs *pb.HardState, ents []*pb.Entry, err error) {
	err = d.db.View(func(tx *bolt.Tx) error {
		st := tx.Bucket(bucketState)
		if data := st.Get(keySnapshot); data != nil {
			snap = &pb.Snapshot{}
			if err := proto.Unmarshal(data, snap); err != nil {
				return fmt.Errorf("snapshot: %w", err)
			}
		}
		if data := st.Get(keyHardState); data != nil {
			hs = &pb.HardState{}
			if err := proto.Unmarshal(data, hs); err != nil {
				return fmt.Errorf("hard state: %w", err)
			}
		}
		after := uint64(0)
		if snap != nil {
			after = snap.GetMetadata().GetIndex()
		}
		c := tx.Bucket(bucketEntries).Cursor()
		for k, v := c.Seek(indexKey(after + 1)); k != nil; k, v = c.Next() {
			e := &pb.Entry{}
			if err := proto.Unmarshal(v, e); err != nil {
				return fmt.Errorf("entry %d: %w", binary.BigEndian.Uint64(k), err)
			}
			ents = append(ents, e)
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("replica: loading %s: %w", d.db.Path(), err)
	}
	return snap, hs, ents, nil
}

// Save writes r's durable part in one transaction.
func (d *BoltDisk) Save(r *Ready, sync bool) error {
	if r.Snapshot == nil && len(r.Entries) == 0 && r.HardState == nil && r.Compact == nil {
		return nil
	}
	d.db.NoSync = !sync
	err := d.db.Update(func(tx *bolt.Tx) error {
		ents, st := tx.Bucket(bucketEntries), tx.Bucket(bucketState)
		if r.Snapshot != nil {
			if err := putSnapshot(ents, st, r.Snapshot, r.Snapshot.GetMetadata().GetIndex()); err != nil {
				return err
			}
		}
		if len(r.Entries) > 0 {
			if err := deleteFrom(ents, r.Entries[0].GetIndex()); err != nil {
				return err
			}
			for _, e := range r.Entries {
				data, err := proto.Marshal(e)
				if err != nil {
					return err
				}
				if err := ents.Put(indexKey(e.GetIndex()), data); err != nil {
					return err
				}
			}
		}
		if r.HardState != nil && !raft.IsEmptyHardState(r.HardState) {
			data, err := proto.Marshal(r.HardState)
			if err != nil {
				return err
			}
			if err := st.Put(keyHardState, data); err != nil {
				return err
			}
		}
		if r.Compact != nil {
			return putSnapshot(ents, st, r.Compact, r.CompactIndex)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replica: writing %s: %w", d.db.Path(), err)
	}
	return nil
}

// putSnapshot saves a snapshot and drops the entries up to upTo.
func putSnapshot(ents, st *bolt.Bucket, s *pb.Snapshot, upTo uint64) error {
	data, err := proto.Marshal(s)
	if err != nil {
		return err
	}
	if err := st.Put(keySnapshot, data); err != nil {
		return err
	}
	c := ents.Cursor()
	for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= upTo; k, _ = c.Next() {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// deleteFrom drops the entries from index from on: a new leader's entries
// replace them.
func deleteFrom(ents *bolt.Bucket, from uint64) error {
	c := ents.Cursor()
	for k, _ := c.Seek(indexKey(from)); k != nil; k, _ = c.Seek(indexKey(from)) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// Size is the file's size in bytes.
func (d *BoltDisk) Size() int64 {
	var n int64
	_ = d.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

// Close closes the file.
func (d *BoltDisk) Close() error { return d.db.Close() }

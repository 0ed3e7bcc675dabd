// tlog-check verifies a C2SP tlog-tiles log with Go's golang.org/x/mod/sumdb implementation
// (the tiled transparency log that tlog-tiles grew out of): the checkpoint's note signature
// (sumdb/note), the tiles against the checkpoint's root, and inclusion and consistency proofs
// (sumdb/tlog), both those it computes from the tiles and those the mesh handed out. The tests
// run it as an implementation independent of the mesh's own. Input: JSON on stdin.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type request struct {
	LogURL          string   `json:"logUrl"`
	VerifierKey     string   `json:"verifierKey"`
	Checkpoint      string   `json:"checkpoint"`
	OldSize         int64    `json:"oldSize"`
	OldRoot         string   `json:"oldRoot"`
	ConsistencyPath []string `json:"consistencyProof"`
	Index           int64    `json:"index"`
	LeafHash        string   `json:"leafHash"`
	InclusionPath   []string `json:"inclusionProof"`
}

type tileReader struct{ base string }

func (r tileReader) Height() int { return 8 }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		// Go's paths carry the height (tile/8/L/N); C2SP's have no height element.
		path := strings.Replace(t.Path(), "tile/8/", "tile/", 1)
		resp, err := http.Get(r.base + "/" + path)
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != 200 {
			return nil, fmt.Errorf("%s: %d", path, resp.StatusCode)
		}
		out[i] = data
	}
	return out, nil
}

func (r tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

func hash(s string) tlog.Hash {
	var h tlog.Hash
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != len(h) {
		fail("bad hash %q", s)
	}
	copy(h[:], b)
	return h
}

func hashes(list []string) []tlog.Hash {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		out[i] = hash(s)
	}
	return out
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fail("input: %v", err)
	}
	verifier, err := note.NewVerifier(req.VerifierKey)
	if err != nil {
		fail("verifier key: %v", err)
	}
	n, err := note.Open([]byte(req.Checkpoint), note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint signature: %v", err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		fail("checkpoint body: %q", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	root := hash(lines[2])
	reader := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, tileReader{strings.TrimRight(req.LogURL, "/")})
	computed, err := tlog.TreeHash(size, reader)
	if err != nil || computed != root {
		fail("tree hash from tiles: %v (%v vs %v)", err, computed, root)
	}
	result := map[string]interface{}{"origin": lines[0], "size": size}
	if req.OldSize > 0 {
		oldRoot := hash(req.OldRoot)
		proof, err := tlog.ProveTree(size, req.OldSize, reader)
		if err != nil {
			fail("consistency proof from tiles: %v", err)
		}
		if err := tlog.CheckTree(proof, size, root, req.OldSize, oldRoot); err != nil {
			fail("consistency (from tiles): %v", err)
		}
		if req.ConsistencyPath != nil {
			if err := tlog.CheckTree(tlog.TreeProof(hashes(req.ConsistencyPath)), size, root, req.OldSize, oldRoot); err != nil {
				fail("consistency (mesh proof): %v", err)
			}
		}
		result["consistent"] = true
	}
	if req.LeafHash != "" {
		leaf := hash(req.LeafHash)
		proof, err := tlog.ProveRecord(size, req.Index, reader)
		if err != nil {
			fail("inclusion proof from tiles: %v", err)
		}
		if err := tlog.CheckRecord(proof, size, root, req.Index, leaf); err != nil {
			fail("inclusion (from tiles): %v", err)
		}
		if req.InclusionPath != nil {
			if err := tlog.CheckRecord(tlog.RecordProof(hashes(req.InclusionPath)), size, root, req.Index, leaf); err != nil {
				fail("inclusion (mesh proof): %v", err)
			}
		}
		result["included"] = true
	}
	json.NewEncoder(os.Stdout).Encode(result)
}

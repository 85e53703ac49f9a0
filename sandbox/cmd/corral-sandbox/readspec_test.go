package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// readSpec takes the one JSON object on the spec fd without waiting for the
// writer to close its end: a start need not wait for the supervisor's close.
func TestReadSpecStopsAtTheObjectsEnd(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close() // left open while readSpec reads
	if _, err := w.WriteString(`{"binary": "relative/plugin"}`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := readSpec(r)
		done <- err
	}()
	select {
	case err := <-done:
		// The object was read and decoded: what it says is then judged.
		if err == nil || !strings.Contains(err.Error(), "invalid spec") {
			t.Fatalf("readSpec = %v, want the spec judged invalid", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("readSpec waited for the end of the stream")
	}
}

func TestReadSpecRefusesALongSpec(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, _ = w.WriteString(`{"binary": "` + strings.Repeat("x", maxSpecBytes) + `"}`)
		w.Close()
	}()
	if _, err := readSpec(r); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("readSpec = %v, want a spec too long", err)
	}
}

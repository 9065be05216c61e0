package testutil

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update is the one flag that rewrites golden files: go test -update.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Golden compares got with the golden file testdata/name of the package
// under test, after writing got there when the test runs with -update.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

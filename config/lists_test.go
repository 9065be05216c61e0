package config

import (
	"reflect"
	"testing"
)

func TestCommaList(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{" , ,", nil},
		{"a", []string{"a"}},
		{" a ,b,, c ,", []string{"a", "b", "c"}},
		{"a b,\tc\n", []string{"a b", "c"}},
	} {
		if got := commaList(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("commaList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEntryLines(t *testing.T) {
	type entry struct {
		n    int
		text string
	}
	data := "# header\r\n\r\n  first # note\r\nsecond\n   \n#" + "gone\n\tthird"
	var got []entry
	for n, text := range entryLines([]byte(data)) {
		got = append(got, entry{n, text})
	}
	want := []entry{{3, "first"}, {4, "second"}, {7, "third"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entryLines = %v, want %v", got, want)
	}
	for range entryLines([]byte("a\nb\n")) {
		break // stopping early must not panic
	}
}

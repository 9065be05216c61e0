package main

import (
	"flag"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/xdrproxy/xdrproxy/config"
)

// readme is the repository's README.md, split into lines.
func readme(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(data), "\n")
}

// outsideCode returns lines with every fenced code block blanked, so that
// a shell comment is not taken for a heading.
func outsideCode(lines []string) []string {
	out := make([]string, len(lines))
	fenced := false
	for i, l := range lines {
		if strings.HasPrefix(l, "```") {
			fenced = !fenced
			continue
		}
		if !fenced {
			out[i] = l
		}
	}
	return out
}

// anchor is the fragment GitHub gives a heading's text: lower case,
// everything but letters, digits, '-', '_' and spaces dropped, spaces
// turned into '-'.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

// headingAnchors returns the anchor of every heading, numbered as GitHub
// numbers repeated ones ("x", "x-1", …), and the anchors of the level-2
// headings in order.
func headingAnchors(lines []string) (all map[string]bool, sections []string) {
	all = map[string]bool{}
	seen := map[string]int{}
	heading := regexp.MustCompile(`^(#{1,6}) (.+)$`)
	for _, l := range outsideCode(lines) {
		m := heading.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		a := anchor(m[2])
		if n := seen[a]; n > 0 {
			seen[a]++
			a += "-" + strconv.Itoa(n)
		} else {
			seen[a] = 1
		}
		all[a] = true
		if len(m[1]) == 2 {
			sections = append(sections, a)
		}
	}
	return all, sections
}

var localLink = regexp.MustCompile(`\]\(#([^)\s]+)\)`)

// TestREADMEContents checks the README's table of contents and its links
// within itself: the contents list every section (every ## heading), and
// every #fragment link, there or anywhere else, names a heading that
// exists.
func TestREADMEContents(t *testing.T) {
	lines := readme(t)
	anchors, sections := headingAnchors(lines)
	if len(sections) < 10 {
		t.Fatalf("the README has %d sections; the heading parser is broken", len(sections))
	}

	start := slices.Index(lines, "**Contents**")
	if start < 0 {
		t.Fatal(`the README has no "**Contents**" list`)
	}
	contents := map[string]bool{}
	for _, l := range lines[start+1:] {
		if strings.HasPrefix(l, "## ") {
			break
		}
		for _, m := range localLink.FindAllStringSubmatch(l, -1) {
			contents[m[1]] = true
		}
	}
	for _, s := range sections {
		if !contents[s] {
			t.Errorf("the contents do not link to the section #%s", s)
		}
	}

	for i, l := range outsideCode(lines) {
		for _, m := range localLink.FindAllStringSubmatch(l, -1) {
			if !anchors[m[1]] {
				t.Errorf("README.md:%d links to #%s, which no heading has", i+1, m[1])
			}
		}
	}
}

// TestAnchor pins the heading-to-fragment rule on headings the README has.
func TestAnchor(t *testing.T) {
	for heading, want := range map[string]string{
		"Pointing Microsoft's libraries at xdrproxy":  "pointing-microsofts-libraries-at-xdrproxy",
		"Fleet: several replicas as one":              "fleet-several-replicas-as-one",
		"2. Give the application a credential (once)": "2-give-the-application-a-credential-once",
		"`/tenants`":                          "tenants",
		"429: the proxy's or Microsoft's":     "429-the-proxys-or-microsofts",
		"400 InvalidTenant for a domain name": "400-invalidtenant-for-a-domain-name",
		"Try it (no Azure account needed)":    "try-it-no-azure-account-needed",
		"What is re-read live":                "what-is-re-read-live",
		"Run `check` — then the proxy":        "run-check--then-the-proxy",
	} {
		if got := anchor(heading); got != want {
			t.Errorf("anchor(%q) = %q, want %q", heading, got, want)
		}
	}
}

// section returns the lines of the README's ## section named title, up
// to the next ## heading.
func section(t *testing.T, lines []string, title string) []string {
	t.Helper()
	code := outsideCode(lines)
	start := slices.Index(code, "## "+title)
	if start < 0 {
		t.Fatalf("the README has no section %q", title)
	}
	end := len(lines)
	for i := start + 1; i < len(code); i++ {
		if strings.HasPrefix(code[i], "## ") {
			end = i
			break
		}
	}
	return lines[start:end]
}

// TestREADMECommandReference checks that the README's command reference
// has a row for every subcommand, naming each of its flags and, when it
// reads only some variables, each of them: the reference cannot drift
// from the table the help is rendered from.
func TestREADMECommandReference(t *testing.T) {
	ref := section(t, readme(t), "Command reference")
	rows := map[string]string{}
	cell := regexp.MustCompile("`xdrproxy ([a-z-]+)")
	for _, l := range ref {
		cells := strings.Split(l, " | ")
		if !strings.HasPrefix(l, "| ") || len(cells) < 4 {
			continue
		}
		for _, m := range cell.FindAllStringSubmatch(cells[0], -1) {
			rows[m[1]] = l
		}
	}
	if _, ok := rows["help"]; !ok {
		t.Error("the command reference has no row for xdrproxy help")
	}
	for _, c := range commands {
		row, ok := rows[c.name]
		if !ok {
			t.Errorf("the command reference has no row for xdrproxy %s", c.name)
			continue
		}
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.setup(fs)
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(row, "`--"+f.Name) {
				t.Errorf("the command reference's row for %s does not name its flag --%s", c.name, f.Name)
			}
		})
		if slices.Equal(c.env, config.Variables) {
			continue // "every variable": the configuration table's test covers them
		}
		for _, v := range c.env {
			if !strings.Contains(row, "`"+v+"`") {
				t.Errorf("the command reference's row for %s does not name %s, which it reads", c.name, v)
			}
		}
	}
}

// TestREADMETestCommand checks that the README's test command is the one
// CI runs (the last line of .ci/run), and that its apt-get line installs
// every package .ci/run installs when it is missing.
func TestREADMETestCommand(t *testing.T) {
	data, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	ci := strings.Split(strings.TrimSpace(string(data)), "\n")
	command := ci[len(ci)-1]
	lines := readme(t)
	if !slices.Contains(lines, command) {
		t.Errorf("the README does not show CI's test command on a line of its own: %s", command)
	}

	var packages []string
	for _, m := range regexp.MustCompile(`missing="\$missing ([^"]+)"`).FindAllStringSubmatch(string(data), -1) {
		for _, p := range strings.Fields(m[1]) {
			if !strings.HasPrefix(p, "$") { // ${m#*:}: the Python modules' packages, below
				packages = append(packages, p)
			}
		}
	}
	for _, m := range regexp.MustCompile(`[a-z.]+:(python3-[a-z0-9-]+)`).FindAllStringSubmatch(string(data), -1) {
		packages = append(packages, m[1])
	}
	if len(packages) < 5 {
		t.Fatalf("found %d packages in .ci/run (%v); the parser is broken", len(packages), packages)
	}
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "apt-get install -y ") })
	if i < 0 {
		t.Fatal("the README has no apt-get install line")
	}
	listed := strings.Fields(strings.TrimPrefix(lines[i], "apt-get install -y "))
	for _, p := range packages {
		if !slices.Contains(listed, p) {
			t.Errorf("the README's apt-get line lacks %s, which .ci/run installs", p)
		}
	}
}

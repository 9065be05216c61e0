package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The attackers run in a child process of this program (-attack-child):
// in one process, with the soak pinned to one core, the normal load's
// goroutines would wait in the same run queue as thousands of attacker
// goroutines, and the latency measured would be the soak's own. The child
// prints "ready" once every attacker has tried its first connection,
// attacks until its standard input closes, then prints its counters as
// JSON.

// attackProcess is a running attack child.
type attackProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

func startAttackProcess(ctx context.Context, o options) (*attackProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "-attack-child", "-a", strconv.Itoa(o.attackers),
		"-url", o.url, "-tenant", o.tenant, "-reconnect-delay", o.reconnectDelay.String())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the attackers: %w", err)
	}
	p := &attackProcess{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	if line, err := p.out.ReadString('\n'); err != nil || strings.TrimSpace(line) != "ready" {
		p.kill()
		return nil, fmt.Errorf("the attackers did not start: %q, %v", line, err)
	}
	return p, nil
}

func (p *attackProcess) pid() int {
	if p == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// stop ends the attack and returns the child's counters.
func (p *attackProcess) stop() (attackStats, error) {
	p.stdin.Close()
	var s attackStats
	errDecode := json.NewDecoder(p.out).Decode(&s)
	if err := p.cmd.Wait(); err != nil {
		return s, fmt.Errorf("the attackers: %w", err)
	}
	if errDecode != nil {
		return s, fmt.Errorf("reading the attackers' counters: %w", errDecode)
	}
	return s, nil
}

// kill ends the child at once, for when the soak fails half-way.
func (p *attackProcess) kill() {
	if p == nil || p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Kill()
	p.cmd.Wait()
}

// runAttackChild is the child's side: attack target until standard input
// closes.
func runAttackChild(o options, target *url.URL) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	atk := startAttack(ctx, hostPort(target), o.tenant, o.attackers, o.reconnectDelay)
	atk.waitOpened(ctx, 5*time.Second)
	fmt.Println("ready")
	<-ctx.Done()
	atk.wait()
	return json.NewEncoder(os.Stdout).Encode(atk.snapshot())
}
